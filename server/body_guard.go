package server

import (
	"net/http"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
)

// DefaultBodyIdleTimeout is how long a request body may send nothing
// before its connection is cut (408 when the handler can still answer).
// A slow upload that keeps moving is never cut; one that stalls would
// otherwise hold its connection, a goroutine and maybe a temporary file
// for as long as the client likes.
const DefaultBodyIdleTimeout = 60 * time.Second

// DefaultHeaderTimeout bounds the time to receive a request's headers,
// from the connection's start or from the first bytes of a request on a
// kept-alive one (the http.Server's ReadHeaderTimeout): a client that
// sends headers a byte at a time cannot hold a connection longer.
const DefaultHeaderTimeout = 10 * time.Second

// unreadBodyGrace is how long the rest of a body is read after an answer
// sent before it (at most 256 KiB, net/http's limit): a client still
// sending reads the answer instead of a reset, and a body that does not
// come holds its connection no longer.
const unreadBodyGrace = time.Second

// guardBody is the one place where request bodies are bounded in time,
// whatever route reads them (JSON, stdin, uploads, multipart parts, MCP):
//
//   - each read must bring data within idle, or the read fails (the
//     connection's read deadline moves forward as data arrives);
//   - an answer that starts while the body is still unread (a refusal:
//     401, 403, 404, 405, 413, 415...) does not wait for it: it carries
//     "Connection: close", so net/http sends it at once instead of first
//     draining up to 256 KiB of a body that may never come; afterwards
//     what is left of the body is read for at most unreadBodyGrace (so
//     that a client still sending it reads the answer, not a reset), and
//     the connection is closed;
//   - once the body is read to its end (at once for a request without
//     one) the request is complete, and the connection limiter keeps its
//     connection (see connlimit).
//
// Requests without a body (websockets, log streams) get no deadline at
// all.
func guardBody(idle time.Duration) func(http.Handler) http.Handler {
	if idle <= 0 {
		idle = DefaultBodyIdleTimeout
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				connlimit.RequestComplete(r.Context())
				next.ServeHTTP(w, r)
				return
			}
			body := &guardedBody{body: r.Body, rc: http.NewResponseController(w), idle: idle, r: r}
			r.Body = body
			gw := &guardedWriter{ResponseWriter: w, body: body}
			defer gw.finish()
			next.ServeHTTP(gw, r)
		})
	}
}
