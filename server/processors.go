package server

import (
	"net/http"

	"github.com/sandbox-api/sandbox-api/internal/procs"
)

// countRequests counts every request in the processor governor
// (internal/procs): the daemon runs on one processor while it serves one
// request at a time, and on all of them as soon as two run.
func countRequests(g *procs.Governor) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if g == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.RequestStarted()
			defer g.RequestEnded()
			next.ServeHTTP(w, r)
		})
	}
}

// bulkWork runs next on every processor even when it is the only request:
// the route moves bulk data (log streams, multipart parts and their
// completion; the streamed exec marks itself, being a mode of POST
// /process) or spreads its work over the processors (searches, /mcp and
// its search tools), where a control request answers sooner on one.
func bulkWork(opts Options, next http.HandlerFunc) http.HandlerFunc {
	g := opts.Processors
	if g == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		g.BulkStarted()
		defer g.BulkEnded()
		next(w, r)
	}
}
