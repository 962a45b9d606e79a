package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/server"
)

// httpDrainTimeout bounds how long shutdown waits for requests in flight
// before cutting them (streams never end by themselves).
const httpDrainTimeout = 2 * time.Second

// finalAnswerTime is how long requests that waited for a process get to
// write its final record before every request context is cancelled.
const finalAnswerTime = 300 * time.Millisecond

// httpIdleTimeout is how long a kept-alive connection may stay idle.
const httpIdleTimeout = 120 * time.Second

// maxHeaderBytes bounds a request line and headers: past it Go's server
// answers 431 before any route runs.
const maxHeaderBytes = 64 << 10

// listen binds the port before anything starts, so a taken port fails fast
// and clearly; an error has been logged.
func listen(cfg config, logger *zap.Logger) (net.Listener, error) {
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("cannot listen", zap.String("addr", addr), zap.Error(err))
		return nil, err
	}
	return ln, nil
}

// newHTTPServer builds the server of the API. Requests live in a context
// that endRequests cancels, so that endless streams (file watches, idle log
// streams) end at shutdown instead of being cut.
func newHTTPServer(cfg config, svc *services, conns *connlimit.Limiter, startedAt time.Time, logger *zap.Logger) (srv *http.Server, endRequests context.CancelFunc) {
	// net/http's own complaints (bad handshakes, misused writers) as JSON too.
	httpErrorLog, _ := zap.NewStdLogAt(logger.Named("http"), zap.WarnLevel) // fails only on an invalid level
	requestsCtx, endRequests := context.WithCancel(context.Background())
	handler := server.New(server.Options{
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
	}, server.Services{
		Processes:   svc.processes,
		Files:       svc.files,
		Watches:     svc.watches,
		Network:     svc.ports,
		Terminals:   svc.terminals,
		MCPDisabled: cfg.mcpDisabled,
	})
	return &http.Server{
		BaseContext:       func(net.Listener) context.Context { return requestsCtx },
		Handler:           handler,
		ReadHeaderTimeout: cfg.conns.headerTimeoutOrDefault(),
		ConnState:         conns.ConnState,
		ConnContext:       conns.ConnContext,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       httpIdleTimeout,
		// No WriteTimeout: log and exec streams last as long as their process.
		ErrorLog: httpErrorLog,
	}, endRequests
}

// serve serves on ln until ctx is done or the server fails, and returns
// the exit code.
func serve(ctx context.Context, srv *http.Server, conns *connlimit.Limiter, ln net.Listener, logDir, token string, logger *zap.Logger) int {
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(conns.Listen(ln)) }()

	logger.Info("sandbox-api listening",
		zap.String("addr", ln.Addr().String()),
		zap.String("version", version),
		zap.String("git_commit", gitCommit),
		zap.String("build_time", buildTime),
		zap.String("log_dir", logDir),
		zap.String("auth", authDescription(token)),
		zap.Int("max_connections", conns.Max()),
	)

	select {
	case <-ctx.Done():
		logger.Info("shutting down on signal")
		return 0
	case err := <-serveErr:
		logger.Error("http server failed", zap.Error(err))
		return 1
	}
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
