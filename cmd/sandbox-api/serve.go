package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/internal/tcplisten"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/server"
	"github.com/sandbox-api/sandbox-api/upgrade"
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
// and clearly; an image started by a switch takes over the earlier image's
// socket instead, on which clients never stopped being queued. An error
// has been logged.
func listen(cfg config, inh *upgrade.Inherited, logger *zap.Logger) (net.Listener, error) {
	if inh != nil {
		ln, err := inh.Listener()
		if err != nil {
			logger.Error("cannot take over the listening socket", zap.Error(err))
		}
		return ln, err
	}
	ln, err := tcplisten.Listen(cfg.host, cfg.port)
	if err != nil {
		logger.Error("cannot listen", zap.String("addr", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))), zap.Error(err))
		return nil, err
	}
	return ln, nil
}

// newHTTPServer builds one server of the front door (front.build): the
// API over the services, behind the start gate. Requests live in a context
// that ends.requests cancels, so that endless streams (file watches, idle
// log streams) end at shutdown instead of being cut; ends.streams ends the
// streams alone, at once (a switch to a new binary).
func newHTTPServer(cfg config, gate *startGate[*services], conns *connlimit.Limiter, startedAt time.Time, logger *zap.Logger) (*http.Server, requestEnds) {
	// net/http's own complaints (bad handshakes, misused writers) as JSON too.
	httpErrorLog, _ := zap.NewStdLogAt(logger.Named("http"), zap.WarnLevel) // fails only on an invalid level
	requestsCtx, endRequests := context.WithCancel(context.Background())
	streamsCtx, endStreams := context.WithCancelCause(context.Background())
	handler := gate.through(func(svc *services) http.Handler {
		return newAPI(cfg, svc, streamsCtx, startedAt, logger)
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
	}, requestEnds{requests: endRequests, streams: endStreams}
}

// newAPI builds the handler of every route, over the services; its
// streams end with streamsEnd.
func newAPI(cfg config, svc *services, streamsEnd context.Context, startedAt time.Time, logger *zap.Logger) http.Handler {
	return server.New(server.Options{
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
		StreamsEnd:        streamsEnd,
		Processors:        svc.processors,
	}, server.Services{
		Processes:   svc.processes,
		Files:       svc.files,
		Watches:     svc.watches,
		Network:     svc.ports,
		Terminals:   svc.terminals,
		MCPDisabled: cfg.mcpDisabled,
		Upgrades:    svc.upgrades,
	})
}

// requestEnds end the requests of one server.
type requestEnds struct {
	requests context.CancelFunc // every request's context
	// streams ends the streams' only, with a cause (nil: a shutdown's)
	// that handlers may tell their clients (server.ErrHandedOver).
	streams context.CancelCauseFunc
}

// announce says the daemon is ready: its address, build, log folder, auth
// and connection bound.
func announce(f *front, logDir, token string, logger *zap.Logger) {
	logger.Info("sandbox-api listening",
		zap.String("addr", f.ln.Addr().String()),
		zap.String("version", version),
		zap.String("git_commit", gitCommit),
		zap.String("build_time", buildTime),
		zap.String("log_dir", logDir),
		zap.String("auth", authDescription(token)),
		zap.Int("max_connections", f.maxConns),
	)
}

// serve serves (the front door has started) until ctx is done or the
// server fails, and returns the exit code.
func serve(ctx context.Context, f *front, logger *zap.Logger) int {
	select {
	case <-ctx.Done():
		logger.Info("shutting down on signal")
		return 0
	case err := <-f.failed:
		logger.Error("http server failed", zap.Error(err))
		return 1
	}
}

// shutdown stops accepting connections, then ends every managed process
// tree while open requests drain (front.drain): a request waiting for a
// process, or a log stream, gets the process's final state instead of a
// cut connection.
func shutdown(f *front, mgr *process.Manager, grace time.Duration, logger *zap.Logger) {
	f.drain(func() {
		_ = f.ln.Close() // new connections are refused from now on
		mgr.Shutdown(grace)
	}, nil)
	logger.Info("shutdown complete")
}

func authDescription(token string) string {
	if token != "" {
		return "bearer token required"
	}
	return "disabled, API is open (the platform in front authenticates)"
}
