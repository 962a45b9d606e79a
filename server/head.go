package server

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// HEAD is answered for every GET route: monitors and load balancers probe
// with it. A route that has no HEAD of its own gets GET's handler
// (headAlongside), and net/http sends its status and headers without the
// body (it also computes the Content-Length of an answer that fits its
// buffer). Streaming GETs would never end that way: streamLimit.wrap runs
// them through headersOnly.

// headAlongside registers GET's handler as the HEAD of every GET route
// registered through it, or through the routers its With, Group and Route
// make, as the GET is registered: a walk of the finished router to add them
// afterwards cost the start-up about 40 µs. A route with a HEAD of its own
// registers it after its GET, which it then replaces. A router mounted
// whole (Mount) is not covered.
type headAlongside struct{ chi.Router }

func (r headAlongside) Get(pattern string, h http.HandlerFunc) {
	r.Router.Get(pattern, h)
	r.Router.Head(pattern, h)
}

func (r headAlongside) With(mws ...func(http.Handler) http.Handler) chi.Router {
	return headAlongside{r.Router.With(mws...)}
}

func (r headAlongside) Group(fn func(chi.Router)) chi.Router {
	return headAlongside{r.Router.Group(func(g chi.Router) { fn(headAlongside{g}) })}
}

func (r headAlongside) Route(pattern string, fn func(chi.Router)) chi.Router {
	return headAlongside{r.Router.Route(pattern, func(sub chi.Router) { fn(headAlongside{sub}) })}
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
