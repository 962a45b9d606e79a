package main

import (
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/procfile"
)

// protectFromOOMKiller asks the kernel never to pick the daemon when memory
// runs out: losing it would orphan every managed process and the API with
// them. It needs CAP_SYS_RESOURCE; without it the daemon goes on unprotected.
// It reports whether the protection is in place (children must then be reset
// to a normal score, which the process manager does).
func protectFromOOMKiller(log *zap.Logger) bool {
	if err := procfile.Write("/proc/self/oom_score_adj", "-1000"); err != nil {
		log.Info("not protected from the OOM killer", zap.Error(err))
		return false
	}
	return true
}
