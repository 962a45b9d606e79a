// Command sandbox-api is the daemon that runs inside a sandbox container and
// serves its HTTP API: processes and their output, files, watches, ports, a
// web terminal, MCP, and health.
//
// The daemon builds for Linux only: it runs in Linux containers and relies
// on inotify, pidfds, /proc, sock_diag and per-thread identities. Only the
// imagebuilder client library builds elsewhere.
//
// The files, by job: main.go runs the steps in order; flags*.go read the
// command line and the environment; access.go, token_linux.go, oom_linux.go,
// rlimit_linux.go and logdir.go prepare the process; services.go builds the
// domain services; serve.go listens, serves and shuts down; logger.go and
// logsink.go write the JSON log lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
)

// Build information, stamped with -ldflags "-X main.version=...".
var (
	version   = "dev"
	gitCommit = "unknown"
	buildTime = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is the whole daemon, step by step; it returns the exit code.
func run(args []string) int {
	startedAt := time.Now()
	cfg, tokenWarning, exit, ok := configure(args)
	if !ok {
		return exit
	}
	logger, err := newLogger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		return 1
	}
	defer func() { _ = logger.Sync() }() // stderr cannot always sync; nothing to do about it
	if err := checkAccess(cfg, tokenWarning, logger); err != nil {
		logger.Error("cannot run the workload as its user", zap.Error(err))
		return 1
	}
	ctx, stop := handleSignals()
	defer stop()

	oomProtected := protectFromOOMKiller(logger)
	conns := connlimit.New(cfg.conns.maxConnections(raiseOpenFileLimit(logger)))
	logDir, err := chooseLogDir(cfg, logger)
	if err != nil {
		return 1 // chooseLogDir has logged why
	}
	logDirLock, err := lockLogDir(logDir, logger)
	if err != nil {
		return 1 // lockLogDir has logged why
	}
	defer logDirLock.Close() // held, and kept from the garbage collector, until the end
	ln, err := listen(cfg, logger)
	if err != nil {
		return 1 // listen has logged why
	}
	svc, err := newServices(cfg, logDir, oomProtected, logger)
	if err != nil {
		_ = ln.Close()
		return 1 // newServices has logged why
	}
	defer svc.close()
	srv, endRequests := newHTTPServer(cfg, svc, conns, startedAt, logger)
	defer endRequests()
	startBootCommand(cfg, svc.processes, logger)
	exit = serve(ctx, srv, conns, ln, logDir, cfg.token, logger)
	shutdown(srv, svc.processes, endRequests, cfg.shutdownGrace, logger)
	return exit
}

// configure reads the command line and hides the token; ok is false when
// the daemon must exit at once, with exit.
func configure(args []string) (cfg config, tokenWarning error, exit int, ok bool) {
	cfg, err := parseFlags(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cfg, nil, 0, false
	}
	if err != nil {
		return cfg, nil, 2, false // parseFlags has said why
	}
	if cfg.showVersion {
		fmt.Printf("sandbox-api %s (commit %s, built %s)\n", version, gitCommit, buildTime)
		return cfg, nil, 0, false
	}
	// The token out of the environment and command line (token_linux.go):
	// this may execute the daemon again, so it comes before anything else.
	tokenWarning, err = secureToken(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		return cfg, nil, 2, false
	}
	return cfg, tokenWarning, 0, true
}

// handleSignals returns a context that SIGTERM, SIGINT and SIGHUP cancel.
// Signals are handled from the start: as PID 1 the kernel would ignore
// them. SIGHUP (a closed terminal of `make run`) ends the daemon as cleanly
// as SIGTERM: left at its default, it killed the daemon and orphaned every
// process tree.
func handleSignals() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// A stderr whose reader went away must not kill the daemon: Go exits on
	// SIGPIPE from a write to fd 1 or 2 unless the signal is notified. It is
	// notified, not ignored, because an ignored signal is inherited through
	// exec and the processes the daemon starts rely on SIGPIPE (yes | head).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return ctx, stop
}

// chooseLogDir is the folder for process output (see resolveLogDir).
func chooseLogDir(cfg config, logger *zap.Logger) (string, error) {
	logDir, fellBack, err := resolveLogDir(cfg.logDir, defaultLogDir, filepath.Join(os.TempDir(), "sandbox-api-logs"))
	if err != nil {
		logger.Error("cannot use a log dir", zap.Error(err))
		return "", err
	}
	if fellBack {
		logger.Warn("default log dir is not writable, using the fallback",
			zap.String("default", defaultLogDir), zap.String("log_dir", logDir))
	}
	return logDir, nil
}
