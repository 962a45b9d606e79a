package main

import (
	"syscall"

	"go.uber.org/zap"
)

// raiseOpenFileLimit lifts the soft RLIMIT_NOFILE to the hard limit, so many
// concurrent streams and log files do not run out of descriptors. It
// returns the soft limit in effect (0 when it cannot be read): the default
// connection bound is derived from it.
//
// The Go runtime already raises it (to hard-1) at start, and gives the
// children it starts the original soft limit back. syscall.Setrlimit on
// RLIMIT_NOFILE cancels that restore, and children would inherit a huge
// limit that breaks select()-based programs and slows those that close every
// possible descriptor. So it is only called when the runtime did not raise
// the limit itself.
func raiseOpenFileLimit(log *zap.Logger) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Info("cannot read the open file limit", zap.Error(err))
		return 0
	}
	if lim.Cur >= lim.Max || lim.Cur == lim.Max-1 {
		return lim.Cur // already raised (by the runtime, or it was already at the hard limit)
	}
	soft := lim.Cur
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Info("cannot raise the open file limit", zap.Uint64("soft", soft), zap.Uint64("hard", lim.Max), zap.Error(err))
		return soft
	}
	return lim.Cur
}
