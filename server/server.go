package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/procs"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/upgrade"
	"github.com/sandbox-api/sandbox-api/watch"
)

// Options configures the HTTP layer.
type Options struct {
	Logger *zap.Logger
	// Token, when set, is required as "Authorization: Bearer <token>" on every
	// route but /health.
	Token string
	// Build information reported by /health.
	Version, GitCommit, BuildTime string
	StartedAt                     time.Time
	// KeepaliveInterval is the period of keepalive frames in streams (0:
	// DefaultKeepaliveInterval in log streams and watches, no pings on
	// terminal sockets).
	KeepaliveInterval time.Duration
	// MaxStreams bounds the streaming requests served at once (0:
	// DefaultMaxStreams); past it they are answered 503.
	MaxStreams int
	// Browsers says which browser pages may drive the daemon without a
	// token, and which host names it answers them on.
	Browsers BrowserPolicy
	// BodyIdleTimeout is how long a request body may send nothing before
	// its connection is cut (0: DefaultBodyIdleTimeout).
	BodyIdleTimeout time.Duration
	// StreamsEnd, once done, ends every stream (log streams, watches,
	// streamed execs, terminal sockets) as if its client had left: a
	// switch to a new binary ends them at once, where other requests get
	// a moment to finish. nil: streams end with their request only. Its
	// cause is ErrHandedOver for a switch: terminal sockets then close
	// with 1012 (Service Restart) rather than 1001 (Going Away).
	StreamsEnd context.Context
	// Processors follows the requests being served (countRequests) and
	// is raised while a route moves bulk data (bulkWork): see
	// internal/procs. nil: GOMAXPROCS is left as it is.
	Processors *procs.Governor
}

// ErrHandedOver is the cause Options.StreamsEnd ends with when the daemon
// switches to a new binary in place (POST /upgrade, SIGUSR2): what a
// stream's client had is still there once it reconnects.
var ErrHandedOver = errors.New("the daemon is switching to a new binary; reconnect to resume")

// Services are the domain objects the API exposes.
type Services struct {
	Processes   *process.Manager
	Files       *filesystem.FS
	Watches     *watch.Service // the watches of Files
	Network     *network.Service
	Terminals   *terminal.Manager // nil: the terminal routes are off
	MCPDisabled bool              // true: /mcp is not served
	// Upgrades runs POST /upgrade, and /health reports them (nil: 501,
	// and /health says idle).
	Upgrades *upgrade.Upgrader
}

// New returns the daemon's HTTP handler.
func New(opts Options, svc Services) http.Handler {
	return newHandler(opts, svc, nil)
}

// newHandler is New with a hook for tests to add routes behind the full
// middleware stack.
func newHandler(opts Options, svc Services, extraRoutes func(chi.Router)) http.Handler {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.StartedAt.IsZero() {
		opts.StartedAt = time.Now()
	}

	browsers := newBrowserGuard(opts.Browsers, opts.Logger)
	r := chi.NewRouter()
	// Outermost first: the access log and recovery see everything, pages
	// of other sites are refused before anything else runs, and CORS
	// answers preflights before auth rejects them.
	r.Use(
		countRequests(opts.Processors),
		accessLog(opts.Logger),
		recoverPanic(opts.Logger),
		guardBody(opts.BodyIdleTimeout),
		noStore,
		guardBrowsers(opts.Token, browsers),
		cors(opts.Token, browsers),
		requireToken(opts.Token, browsers),
		encodedRootSlash,
	)
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)

	// One slot pool for every kind of stream (--max-streams).
	streams := newStreamLimit(opts.MaxStreams, opts.StreamsEnd)
	h := handlers{
		root:      rootHandler(opts.Version),
		health:    healthHandler{opts: opts, now: time.Now, upgrades: svc.Upgrades},
		processes: &processHandlers{m: svc.Processes, opts: opts, streams: streams},
		files:     &filesystemHandlers{fs: svc.Files, watches: svc.Watches, opts: opts, streams: streams},
		mcp:       mcpHandler(opts, svc),
	}
	if svc.Upgrades != nil {
		h.upgrade = startUpgrade(svc.Upgrades)
	}
	if svc.Network != nil {
		h.network = &networkHandlers{net: svc.Network, opts: opts}
	}
	if svc.Terminals != nil {
		h.terminals = &terminalHandlers{terms: svc.Terminals, opts: opts, streams: streams, browsers: browsers}
	}
	routes := headAlongside{r} // every GET answers HEAD too (head.go)
	registerRoutes(routes, h)  // routes.go
	if extraRoutes != nil {
		extraRoutes(routes)
	}
	return r
}
