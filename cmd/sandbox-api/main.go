// Command sandbox-api is the daemon that runs inside a sandbox container and
// serves its HTTP API: processes, their output, and health.
//
// The daemon builds for Linux only: it runs in Linux containers and relies
// on inotify, pidfds, /proc, sock_diag and per-thread identities. Only the
// imagebuilder client library builds elsewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/server"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/watch"
)

// Build information, stamped with -ldflags "-X main.version=...".
var (
	version   = "dev"
	gitCommit = "unknown"
	buildTime = "unknown"
)

// httpDrainTimeout bounds how long shutdown waits for requests in flight
// before cutting them (streams never end by themselves).
const httpDrainTimeout = 2 * time.Second

// finalAnswerTime is how long requests that waited for a process get to
// write its final record before every request context is cancelled.
const finalAnswerTime = 300 * time.Millisecond

// bootCommandName names the process started by --command.
const bootCommandName = "boot-command"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is the whole daemon; it returns the exit code.
func run(args []string) int {
	startedAt := time.Now()

	cfg, err := parseFlags(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2 // parseFlags has said why
	}
	if cfg.showVersion {
		fmt.Printf("sandbox-api %s (commit %s, built %s)\n", version, gitCommit, buildTime)
		return 0
	}
	// The token out of the environment and command line (token_linux.go):
	// this may execute the daemon again, so it comes before anything else.
	tokenWarning, err := secureToken(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		return 2
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

	// Handle signals from the start: as PID 1 the kernel would ignore them.
	// SIGHUP (a closed terminal of `make run`) ends the daemon as cleanly as
	// SIGTERM: left at its default, it killed the daemon and orphaned every
	// process tree.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	// A stderr whose reader went away must not kill the daemon: Go exits on
	// SIGPIPE from a write to fd 1 or 2 unless the signal is notified. It is
	// notified, not ignored, because an ignored signal is inherited through
	// exec and the processes the daemon starts rely on SIGPIPE (yes | head).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	oomProtected := protectFromOOMKiller(logger)
	conns := connlimit.New(cfg.conns.maxConnections(raiseOpenFileLimit(logger)))

	logDir, fellBack, err := resolveLogDir(cfg.logDir, defaultLogDir, filepath.Join(os.TempDir(), "sandbox-api-logs"))
	if err != nil {
		logger.Error("cannot use a log dir", zap.Error(err))
		return 1
	}
	if fellBack {
		logger.Warn("default log dir is not writable, using the fallback",
			zap.String("default", defaultLogDir), zap.String("log_dir", logDir))
	}

	// Bind before starting anything, so a taken port fails fast and clearly.
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("cannot listen", zap.String("addr", addr), zap.Error(err))
		return 1
	}

	mgr, err := process.NewManager(process.Config{
		LogDir:                logDir,
		MaxLogBytesPerProcess: cfg.maxLogProcessBytes,
		MaxLogBytesTotal:      cfg.maxLogTotalBytes,
		MaxEndedProcesses:     cfg.maxEndedProcesses,
		Logger:                logger.Named("process"),
		Reap:                  true,
		ResetChildOOMScore:    oomProtected,
		User:                  cfg.access.user,
	})
	if err != nil {
		_ = ln.Close()
		logger.Error("cannot start the process manager", zap.Error(err))
		return 1
	}

	files, err := filesystem.New(filesystem.Config{
		UploadDir:     cfg.uploadDir,
		UploadTTL:     cfg.uploadTTL,
		MaxUploads:    cfg.bounds.maxUploads,
		MaxHeavyReads: cfg.bounds.maxHeavyReads,
		Logger:        logger.Named("filesystem"),
		User:          cfg.access.user,
	})
	if err != nil {
		_ = ln.Close()
		logger.Error("cannot set up the filesystem service", zap.Error(err))
		return 1
	}
	defer files.Close()
	watches := watch.New(files, watch.Config{MaxFolders: cfg.bounds.maxWatchFolders})

	ports := network.New(network.Config{Processes: mgr, Logger: logger.Named("network")})
	defer ports.Close()
	var terms *terminal.Manager
	if os.Getenv("DISABLE_TERMINAL") != "true" {
		terms = terminal.NewManager(terminal.Config{Logger: logger.Named("terminal"), IdleTimeout: cfg.terminalIdle, MaxSessions: cfg.terminal.maxSessions, User: cfg.access.user})
		defer terms.Close()
	}

	// net/http's own complaints (bad handshakes, misused writers) as JSON too.
	httpErrorLog, _ := zap.NewStdLogAt(logger.Named("http"), zap.WarnLevel) // fails only on an invalid level
	// Requests live in a context that shutdown cancels, so that endless
	// streams (file watches, idle log streams) end instead of being cut.
	requestsCtx, endRequests := context.WithCancel(context.Background())
	defer endRequests()
	srv := &http.Server{
		BaseContext: func(net.Listener) context.Context { return requestsCtx },
		Handler: server.New(server.Options{
			Logger:            logger.Named("http"),
			Token:             cfg.token,
			Version:           version,
			GitCommit:         gitCommit,
			BuildTime:         buildTime,
			StartedAt:         startedAt,
			KeepaliveInterval: cfg.keepalive,
			MaxStreams:        cfg.maxStreams,
			Browsers:          cfg.browser.policy(),
			BodyIdleTimeout:   cfg.conns.bodyIdle,
		}, server.Services{Processes: mgr, Files: files, Watches: watches, Network: ports, Terminals: terms, MCPDisabled: cfg.mcpDisabled}),
		ReadHeaderTimeout: cfg.conns.headerTimeoutOrDefault(),
		ConnState:         conns.ConnState,
		ConnContext:       conns.ConnContext,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: log and exec streams last as long as their process.
		ErrorLog: httpErrorLog,
	}
	// The boot command starts before the first request is served, so a
	// client that asks at once already sees it.
	if cfg.command != "" {
		// The API stays up even if the command cannot start: it is how the
		// failure gets investigated.
		if _, err := mgr.Start(process.Spec{Command: cfg.command, Name: bootCommandName}); err != nil {
			logger.Error("boot command did not start", zap.String("command", cfg.command), zap.Error(err))
		} else {
			logger.Info("boot command started", zap.String("command", cfg.command))
		}
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(conns.Listen(ln)) }()

	logger.Info("sandbox-api listening",
		zap.String("addr", ln.Addr().String()),
		zap.String("version", version),
		zap.String("git_commit", gitCommit),
		zap.String("build_time", buildTime),
		zap.String("log_dir", logDir),
		zap.String("auth", authDescription(cfg.token)),
		zap.Int("max_connections", conns.Max()),
	)

	exitCode := 0
	select {
	case <-ctx.Done():
		logger.Info("shutting down on signal")
	case err := <-serveErr:
		logger.Error("http server failed", zap.Error(err))
		exitCode = 1
	}

	shutdown(srv, mgr, endRequests, cfg.shutdownGrace, logger)
	return exitCode
}

// shutdown stops accepting connections, then ends every managed process
// tree while open requests drain: a request waiting for a process, or a log
// stream, gets the process's final state instead of a cut connection. What
// still runs after a short moment (streams with no end of their own) has
// its context cancelled, and is cut after the drain timeout.
func shutdown(srv *http.Server, mgr *process.Manager, endRequests context.CancelFunc, grace time.Duration, logger *zap.Logger) {
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		// Shutdown closes the listeners at once, then waits for handlers.
		ctx, cancel := context.WithTimeout(context.Background(), grace+httpDrainTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	mgr.Shutdown(grace)
	select {
	case <-drained:
	case <-time.After(finalAnswerTime):
		endRequests()
		select {
		case <-drained:
		case <-time.After(httpDrainTimeout):
			logger.Info("requests still open after the drain timeout; closing them")
		}
	}
	_ = srv.Close() // cuts whatever did not finish
	logger.Info("shutdown complete")
}

func authDescription(token string) string {
	if token != "" {
		return "bearer token required"
	}
	return "disabled, API is open (the platform in front authenticates)"
}
