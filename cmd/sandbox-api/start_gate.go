package main

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// startGate holds the HTTP requests that come while the daemon starts. The
// port is bound and served from early on, so that a connection made during
// the start (the platform probes /health from the first moment) is accepted
// and its request read while the services are built; every request waits at
// the gate, and none is answered before the API is whole: a first 200 on
// /health still means ready. T is what the API is built over (the
// services), handed over when the gate opens.
type startGate[T any] struct {
	ready  chan struct{}
	failed chan struct{}
	with   T // set by prepare, before ready is closed

	mu      sync.Mutex
	servers []*gated[T] // the servers' handlers made before open, for prepare

	// held counts the requests that waited at the gate: its tests wait
	// for a request to be held before they look whether it was answered.
	held atomic.Int32
}

func newStartGate[T any]() *startGate[T] {
	return &startGate[T]{ready: make(chan struct{}), failed: make(chan struct{})}
}

// prepare sets what the APIs are built over, and builds those of the
// servers made so far while the requests still wait: the first request
// then finds its API built, instead of building it (a few hundred µs cold)
// once the daemon is otherwise ready. It runs once, before open, on the
// goroutine that calls open.
func (g *startGate[T]) prepare(with T) {
	g.with = with
	g.mu.Lock()
	servers := g.servers
	g.mu.Unlock()
	for _, h := range servers {
		h.build()
	}
}

// open lets the requests through, those waiting and all later ones, to the
// APIs built over what prepare was given.
func (g *startGate[T]) open() {
	g.mu.Lock()
	g.servers = nil // later servers build on their first request
	close(g.ready)  // under mu: through sees it closed or leaves its server here
	g.mu.Unlock()
}

// fail answers the waiting requests, and all later ones, that the daemon
// did not start (it is about to exit).
func (g *startGate[T]) fail() { close(g.failed) }

// through is the handler of one server of the front door (front.build): it
// waits at the gate, then serves with the API that build makes, once, over
// what the gate was opened with. Each server has an API of its own (its
// streams end with it), so the gate hands over what to build it from.
func (g *startGate[T]) through(build func(T) http.Handler) http.Handler {
	h := &gated[T]{gate: g, build: sync.OnceValue(func() http.Handler { return build(g.with) })}
	g.mu.Lock()
	select {
	case <-g.ready:
	default:
		g.servers = append(g.servers, h)
	}
	g.mu.Unlock()
	return h
}

// gated is a server's handler behind the gate.
type gated[T any] struct {
	gate  *startGate[T]
	build func() http.Handler
}

func (h *gated[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.gate.ready:
		h.build().ServeHTTP(w, r)
		return
	default:
	}
	h.gate.held.Add(1)
	select {
	case <-h.gate.ready:
		h.build().ServeHTTP(w, r)
		return
	case <-h.gate.failed:
	case <-r.Context().Done(): // the client left, or the daemon ends
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"sandbox-api did not start"}` + "\n"))
}
