package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/upgrade"
)

// refuseHandover, stamped only by the tests' builds (-X
// main.refuseHandover=yes), makes an image started by a switch refuse the
// state once it has resumed its processes, so that the tests see a
// roll-back with services to freeze again.
var refuseHandover = ""

// newUpgrader builds the upgrader of POST /upgrade and SIGUSR2, with the
// history the earlier image handed over; it switches nothing until
// attachUpgrader.
func newUpgrader(cfg config, inh *upgrade.Inherited, svc *services, logger *zap.Logger) {
	var history upgrade.History
	ownPath, _ := os.Executable() // the first image's binary: where `docker cp` puts a new one
	if inh != nil {
		history, ownPath = inh.History(), inh.OwnPath()
	}
	svc.upgrades = upgrade.New(upgrade.Config{
		Version:    version,
		BaseURL:    cfg.upgrade.baseURL,
		Dir:        cfg.upgrade.dir,
		Restricted: cfg.access.user != nil,
		OwnPath:    ownPath,
		Children:   svc.processes,
		Logger:     logger.Named("upgrade"),
	}, history)
}

// attachUpgrader gives the upgrader the running daemon: its front door,
// its services, and what the next image needs (the listening socket, the
// log folder's lock, the token, the user, its arguments).
func attachUpgrader(cfg config, svc *services, f *front, logLock *os.File, startedAt time.Time, stopping <-chan struct{}, logger *zap.Logger) {
	svc.upgrades.Attach(upgrade.Daemon{
		Front:      f,
		Parts:      svc.handoverParts(),
		Listener:   f.ln,
		Lock:       logLock,
		Token:      cfg.token,
		User:       cfg.access.user,
		StartedAt:  startedAt,
		Args:       nextArgs(cfg),
		Stopping:   stopping,
		BeforeExec: func() { _ = logger.Sync() },
	})
}

// nextArgs are the arguments of the next image: this one's, without the
// token or its file (the token goes with the state; a token file may be a
// pipe read once).
func nextArgs(cfg config) []string {
	if !cfg.access.argsChanged {
		return os.Args[1:]
	}
	if cfg.access.argsShown == "" {
		return nil
	}
	return strings.Split(cfg.access.argsShown, "\x00")
}

// upgradeOnSignal starts an upgrade to the binary at the daemon's own path
// on each signal of sigs (SIGUSR2): `docker cp` a new binary there, then
// signal. It runs until ctx is done.
func upgradeOnSignal(ctx context.Context, sigs <-chan os.Signal, u *upgrade.Upgrader, logger *zap.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			if err := u.Start(upgrade.OwnBinary()); err != nil {
				logger.Warn("SIGUSR2: no upgrade", zap.Error(err))
			}
		}
	}
}

// rollBack gives everything back to the earlier binary, since this image,
// started by a switch, cannot go on (cause). It returns only when that
// failed too, with the exit code: the daemon can then only exit.
func rollBack(inh *upgrade.Inherited, cause error, logger *zap.Logger) int {
	flush := func() {}
	if logger != nil {
		logger.Error("the new binary cannot take over; the earlier one takes over again", zap.Error(cause))
		flush = func() { _ = logger.Sync() }
	} else {
		fmt.Fprintln(os.Stderr, "sandbox-api: the new binary cannot take over; the earlier one takes over again:", cause)
	}
	err := inh.Rollback(cause, flush)
	if logger != nil {
		logger.Error("roll-back failed", zap.Error(err))
	} else {
		fmt.Fprintln(os.Stderr, "sandbox-api: roll-back failed:", err)
	}
	return 1
}
