package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
)

// front is the daemon's HTTP front door: it serves the API on the listening
// socket, and pauses for a switch to a new binary without ever closing the
// socket (upgrade.Front), so that no client is refused during the switch:
// the kernel goes on queuing connections in the socket's backlog while
// no one accepts them, and the next server, in this image or the next,
// accepts them.
type front struct {
	ln       *net.TCPListener
	maxConns int
	// build makes the server of one run of Serve: a server that was shut
	// down cannot serve again.
	build  func(*connlimit.Limiter) (*http.Server, requestEnds)
	logger *zap.Logger
	failed chan error // a server that stopped on its own (not a pause, not a shutdown)

	mu  sync.Mutex
	run *serving
}

// serving is one run of Serve.
type serving struct {
	srv     *http.Server
	ends    requestEnds
	limited net.Listener  // the connection limiter's listener (its Close is for good)
	served  chan struct{} // closed when Serve returned
	busy    busyConns
}

func newFront(ln net.Listener, maxConns int, build func(*connlimit.Limiter) (*http.Server, requestEnds), logger *zap.Logger) (*front, error) {
	tcp, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, errors.New("the listening socket is not TCP")
	}
	return &front{ln: tcp, maxConns: maxConns, build: build, logger: logger, failed: make(chan error, 1)}, nil
}

// start serves with a new server and connection limiter.
func (f *front) start() {
	conns := connlimit.New(f.maxConns)
	srv, ends := f.build(conns)
	r := &serving{srv: srv, ends: ends, served: make(chan struct{}), busy: busyConns{conns: map[net.Conn]struct{}{}, changed: make(chan struct{})}}
	limiterState := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		r.busy.note(c, s)
		if limiterState != nil {
			limiterState(c, s)
		}
	}
	_ = f.ln.SetDeadline(time.Time{}) // a pause's
	r.limited = conns.Listen(pausable{f.ln})
	f.mu.Lock()
	f.run = r
	f.mu.Unlock()
	go func() {
		defer close(r.served)
		if err := srv.Serve(stopOnly{r.limited, f.ln}); !errors.Is(err, http.ErrServerClosed) {
			select {
			case f.failed <- err:
			default:
			}
		}
	}()
}

// Pause stops accepting and ends the requests in flight (drain), leaving
// the socket open. Streams end at once: they would not end by themselves,
// and the switch waits for them.
func (f *front) Pause() { f.drain(nil, true) }

// Resume serves again after a pause: the switch was abandoned.
func (f *front) Resume() { f.start() }

// drain shuts the current server down: no new connection is accepted, and
// requests in flight finish, or are cut once bounded waits are over.
// During it, meanwhile runs (the processes stopped at a shutdown), so that
// a request waiting for a process gets its final state instead of a cut
// connection. What still runs after a short moment (streams with no end of
// their own, unless endStreams ended them at once) has its context
// cancelled, and is cut after the drain timeout.
func (f *front) drain(meanwhile func(), endStreams bool) {
	f.mu.Lock()
	r := f.run
	f.mu.Unlock()
	shutDown := make(chan struct{})
	go func() {
		defer close(shutDown)
		// Shutdown stops accepting at once, closes idle connections and
		// waits for the others (polling ever more slowly: drain watches
		// the connections itself, and does not wait for that).
		_ = r.srv.Shutdown(context.Background())
	}()
	// Every connection accepted is known once Serve has returned. At the
	// connection bound Serve may be waiting for room: the limiter is
	// then closed, as at a shutdown.
	select {
	case <-r.served:
	case <-time.After(finalAnswerTime):
		_ = r.limited.Close()
		<-r.served
	}
	if endStreams {
		r.ends.streams()
	}
	if meanwhile != nil {
		meanwhile()
	}
	if !r.busy.waitIdle(shutDown, finalAnswerTime) {
		r.ends.requests()
		if !r.busy.waitIdle(shutDown, httpDrainTimeout) {
			f.logger.Info("requests still open after the drain timeout; closing them")
		}
	}
	_ = r.srv.Close() // cuts whatever did not finish
	r.ends.requests()
	r.ends.streams()
}

// busyConns are the connections with a request under way, or not yet
// read (StateNew): a drain waits for them. Idle ones are closed by
// Shutdown; hijacked ones (terminal sockets) are the terminal's.
type busyConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	changed chan struct{} // closed and replaced at each change
}

func (b *busyConns) note(c net.Conn, s http.ConnState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch s {
	case http.StateNew, http.StateActive:
		b.conns[c] = struct{}{}
	default:
		delete(b.conns, c)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// waitIdle waits until no connection is busy, or done is closed, for at
// most bound; it reports whether that happened.
func (b *busyConns) waitIdle(done <-chan struct{}, bound time.Duration) bool {
	timer := time.NewTimer(bound)
	defer timer.Stop()
	for {
		b.mu.Lock()
		idle, changed := len(b.conns) == 0, b.changed
		b.mu.Unlock()
		if idle {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return true
		case <-timer.C:
			return false
		}
	}
}

// pausable is the listening socket as the connection limiter sees it:
// closing it stops Accept (a deadline in the past wakes it) without
// closing the socket, which the next run of Serve, or the next image,
// takes over.
type pausable struct{ *net.TCPListener }

func (p pausable) Close() error { return p.TCPListener.SetDeadline(time.Unix(1, 0)) }

// stopOnly is the listener Serve gets: Shutdown's Close stops accepting
// (pausable) but leaves the connection limiter open, so that a connection
// accepted at that moment is served, not dropped as a closed limiter
// would.
type stopOnly struct {
	net.Listener // the limiter's
	tcp          *net.TCPListener
}

func (s stopOnly) Close() error { return pausable{s.tcp}.Close() }
