package main

import (
	"errors"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/hugetext"
)

// textMoveDelay is how long after the gate opens the runtime's code moves
// onto a huge page (package hugetext says why it moves). Later than the
// first answers, which it would hold up by the move's half millisecond or
// so: an entrypoint's first curl, a start-up's first /health. Soon enough
// to be done long before the idle daemon's memory settles.
const textMoveDelay = 100 * time.Millisecond

// moveTextLater moves the runtime's code onto a huge page once
// textMoveDelay has passed, and logs what came of it.
func moveTextLater(enabled bool, logger *zap.Logger) {
	if !enabled {
		logger.Info("runtime code left on 4 KiB pages", zap.String("reason", "--text-huge-pages=false"))
		return
	}
	time.AfterFunc(textMoveDelay, func() {
		at, err := hugetext.Move()
		switch {
		case err == nil:
			logger.Info("runtime code moved onto a huge page", zap.String("at", "0x"+strconv.FormatUint(uint64(at), 16)))
		case errors.Is(err, hugetext.ErrNoHugePage), errors.Is(err, hugetext.ErrSmallCode):
			logger.Info("runtime code left on 4 KiB pages", zap.String("reason", err.Error()))
		default:
			logger.Warn("runtime code left on 4 KiB pages", zap.Error(err))
		}
	})
}
