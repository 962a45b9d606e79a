package main

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/server"
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
	srv       *http.Server
	ends      requestEnds
	accepting pausable
	limited   net.Listener  // the connection limiter's listener (its Close is for good)
	served    chan struct{} // closed when Serve returned
	busy      busyConns
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
	r.accepting = pausable{f.ln, &atomic.Bool{}}
	r.limited = conns.Listen(r.accepting)
	f.mu.Lock()
	f.run = r
	f.mu.Unlock()
	go func() {
		defer close(r.served)
		err := srv.Serve(stopOnly{r.limited, r.accepting})
		if !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, errStopped) {
			select {
			case f.failed <- err:
			default:
			}
		}
	}()
}

// Pause stops accepting and ends the requests in flight (drain), leaving
// the socket open. Streams end at once, with server.ErrHandedOver as
// their cause: they would not end by themselves, and the switch waits for
// them.
func (f *front) Pause() { f.drain(nil, server.ErrHandedOver) }

// Resume serves again after a pause: the switch was abandoned.
func (f *front) Resume() { f.start() }

// drain stops the current server: no new connection is accepted, and
// requests in flight finish, or are cut once bounded waits are over.
// During it, meanwhile runs (the processes stopped at a shutdown), so that
// a request waiting for a process gets its final state instead of a cut
// connection. Streams end at once when endStreams is set (their cause);
// else what still runs after a short moment (streams with no end of their
// own) has its context cancelled, and is cut after the drain timeout.
//
// It does not use http.Server.Shutdown: a connection whose first request
// is read once Shutdown has begun is closed unanswered (net/http does so),
// and the kernel may hand one over at any moment until accepting stops.
// Here accepting stops first, then every connection accepted is answered
// (with Connection: close) before it is closed.
func (f *front) drain(meanwhile func(), endStreams error) {
	f.mu.Lock()
	r := f.run
	f.mu.Unlock()
	r.accepting.stop()
	// Every connection accepted is known once Serve has returned. At the
	// connection bound Serve may be waiting for room: the limiter is
	// then closed, as at a shutdown.
	select {
	case <-r.served:
	case <-time.After(finalAnswerTime):
		_ = r.limited.Close()
		<-r.served
	}
	// Idle keep-alive connections are closed (a client retries a request
	// it sent on one meanwhile, as after any idle close); the others
	// close after their answer.
	r.srv.SetKeepAlivesEnabled(false)
	if endStreams != nil {
		r.ends.streams(endStreams)
	}
	if meanwhile != nil {
		meanwhile()
	}
	if !r.busy.waitIdle(finalAnswerTime) {
		r.ends.requests()
		if !r.busy.waitIdle(httpDrainTimeout) {
			f.logger.Info("requests still open after the drain timeout; closing them")
		}
	}
	_ = r.srv.Close() // cuts whatever did not finish
	r.ends.requests()
	r.ends.streams(nil)
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

// waitIdle waits until no connection is busy, for at most bound; it
// reports whether that happened. Once Serve has returned, no connection
// can be added: the set only shrinks.
func (b *busyConns) waitIdle(bound time.Duration) bool {
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
		case <-timer.C:
			return false
		}
	}
}

// errStopped ends Serve once accepting stopped (pausable.stop). It is not
// a temporary error, which Serve would retry.
var errStopped = errors.New("the front door stopped accepting")

// pausable is the listening socket as the connection limiter sees it:
// stopping it ends Accept (a deadline in the past wakes it) without
// closing the socket, which the next run of Serve, or the next image,
// takes over. Connections the kernel completes meanwhile wait in its
// backlog.
type pausable struct {
	*net.TCPListener
	stopped *atomic.Bool
}

func (p pausable) Accept() (net.Conn, error) {
	c, err := p.TCPListener.Accept()
	if err != nil && p.stopped.Load() {
		return nil, errStopped
	}
	return c, err
}

// stop makes Accept return errStopped, now or after the connection it is
// accepting at this moment.
func (p pausable) stop() {
	p.stopped.Store(true)
	_ = p.TCPListener.SetDeadline(time.Unix(1, 0))
}

func (p pausable) Close() error {
	p.stop()
	return nil
}

// stopOnly is the listener Serve gets: the server's Close stops accepting
// (pausable) but leaves the connection limiter open, so that a connection
// accepted at that moment is served, not dropped as a closed limiter
// would.
type stopOnly struct {
	net.Listener // the limiter's
	accepting    pausable
}

func (s stopOnly) Close() error { return s.accepting.Close() }
