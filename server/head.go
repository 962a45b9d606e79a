package server

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// HEAD is answered for every GET route: monitors and load balancers probe
// with it. A route that has no HEAD of its own gets GET's handler, and
// net/http sends its status and headers without the body (it also computes
// the Content-Length of an answer that fits its buffer). Streaming GETs
// would never end that way: streamLimit.wrap runs them through
// headersOnly.

// addHeadRoutes registers GET's handler as the HEAD of every GET route that
// has none. It runs after every route is registered; each new GET route is
// covered without a line of its own.
func addHeadRoutes(r *chi.Mux) {
	type route struct {
		pattern string
		h       http.Handler
	}
	var gets []route
	hasHead := map[string]bool{}
	// Walk hands each handler with every middleware above it; those of the
	// router itself apply to the new route anyway, only a route's own stay.
	own := len(r.Middlewares())
	// Walk fails only when the function does, and this one never does.
	_ = chi.Walk(r, func(method, pattern string, h http.Handler, mws ...func(http.Handler) http.Handler) error {
		switch method {
		case http.MethodGet:
			gets = append(gets, route{pattern, chi.Chain(mws[own:]...).Handler(h)})
		case http.MethodHead:
			hasHead[pattern] = true
		}
		return nil
	})
	for _, g := range gets {
		if !hasHead[g.pattern] {
			r.Method(http.MethodHead, g.pattern, g.h)
		}
	}
}

// headersOnly runs a streaming GET handler for a HEAD request until it has
// chosen its status and headers, then cancels its context so that it
// returns instead of streaming: the client gets GET's status and headers
// at once, and the handler's validation (an unknown process is 404) still
// decides them.
func headersOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		h(&headerCut{ResponseWriter: w, cut: cancel}, r.WithContext(ctx))
	}
}

// headerCut passes the status and headers through, cancels the handler's
// context once they are written, and refuses the body, so a stream stops
// at its first write.
type headerCut struct {
	http.ResponseWriter
	cut   context.CancelFunc
	wrote bool
}

func (c *headerCut) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.ResponseWriter.WriteHeader(code)
	if code >= http.StatusOK { // an informational status is not the answer yet
		c.wrote = true
		c.cut()
	}
}

func (c *headerCut) Write([]byte) (int, error) {
	c.WriteHeader(http.StatusOK) // what a first Write means
	return 0, http.ErrBodyNotAllowed
}

// FlushError sends the headers.
func (c *headerCut) FlushError() error {
	return http.NewResponseController(c.ResponseWriter).Flush()
}

func (c *headerCut) Unwrap() http.ResponseWriter { return c.ResponseWriter }
