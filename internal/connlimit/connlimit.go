// Package connlimit bounds the connections an HTTP server holds open, so
// that clients who connect and then send nothing useful (no request, a
// request cut in the middle of its headers or body, an idle keep-alive)
// cannot take every file descriptor of the daemon.
//
// At the bound, a new connection makes room by closing the connection that
// has waited longest without a complete request: one still sending its
// request, or idle between requests. A connection whose request is complete
// (its headers and its whole body are in) and being answered, a long log
// stream or a websocket for instance, is never closed by the limiter. When
// every connection is such a one, new connections wait in the kernel's
// listen backlog until one ends or becomes idle; nothing is refused.
//
// It is written by hand because the well-kept listener limits
// (golang.org/x/net/netutil) only block at the bound: they cannot tell an
// attacker's stalled connection from a busy client, so under attack they
// would stop serving everyone.
//
// Wiring: Listen wraps the listener, ConnState and ConnContext go into the
// http.Server, and the HTTP layer calls RequestComplete once a request's
// body has been read to its end (at once for a request without a body).
package connlimit

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
)

// DefaultMax is the connection bound unless the open file limit is lower.
// It leaves room for four times the default number of concurrent streams
// (server.DefaultMaxStreams) while keeping the memory a flood of idle
// connections can cost to tens of megabytes.
const DefaultMax = 4096

// MaxFor is the default bound for a process allowed fdLimit open files
// (0: unknown): DefaultMax, or half of fdLimit when that is lower, so that
// the other half stays for process output, pipes, watches and the files
// being served.
func MaxFor(fdLimit uint64) int {
	if fdLimit == 0 || fdLimit/2 >= DefaultMax {
		return DefaultMax
	}
	return max(int(fdLimit/2), 1)
}

// Limiter tracks the open connections of one server.
type Limiter struct {
	max int

	mu   sync.Mutex
	room *sync.Cond // signalled when a connection closes or may be evicted
	open int        // tracked connections, evictable or not
	// evictable holds the connections without a complete request, the one
	// that has waited longest first.
	evictable list.List
	closed    bool // the listener is closed: Accept waits no more
	// onWait, when set (tests), is called each time Accept starts waiting
	// for room.
	onWait func()
}

// New returns a limiter of n connections (at least 1).
func New(n int) *Limiter {
	l := &Limiter{max: max(n, 1)}
	l.room = sync.NewCond(&l.mu)
	return l
}

// Max is the bound.
func (l *Limiter) Max() int { return l.max }

// Open is the number of connections tracked now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Listen wraps ln: its Accept admits each connection under the bound.
func (l *Limiter) Listen(ln net.Listener) net.Listener {
	return &listener{Listener: ln, l: l}
}

// ConnState is the http.Server hook that tells the limiter what each
// connection is doing.
func (l *Limiter) ConnState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*Conn)
	if !ok {
		return
	}
	switch state {
	case http.StateIdle:
		// Between requests: evictable, and youngest of all since it has
		// just been served.
		l.markEvictable(c)
	case http.StateHijacked:
		// A websocket or another upgraded protocol: its request was
		// complete, and its handler now owns the connection.
		l.markBusy(c)
	case http.StateClosed:
		_ = c.Close()
	}
	// StateNew: admitted evictable by Accept. StateActive: the headers are
	// in, but the body may still be missing; RequestComplete says when not.
}

// connKey is the context key of the connection a request came on.
type connKey struct{}

// ConnContext is the http.Server hook that lets RequestComplete find the
// connection of a request.
func (l *Limiter) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	if c, ok := nc.(*Conn); ok {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

// RequestComplete records that the request of ctx (a request context of a
// server wired with ConnContext) is complete: its connection is no longer
// evicted until it is idle again. Without a tracked connection it does
// nothing.
func RequestComplete(ctx context.Context) {
	if c, ok := ctx.Value(connKey{}).(*Conn); ok {
		c.l.markBusy(c)
	}
}

func (l *Limiter) markEvictable(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.gone {
		return
	}
	if c.elem != nil {
		l.evictable.MoveToBack(c.elem)
	} else {
		c.elem = l.evictable.PushBack(c)
	}
	l.room.Signal()
}

func (l *Limiter) markBusy(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.elem != nil {
		l.evictable.Remove(c.elem)
		c.elem = nil
	}
}

// forget stops tracking c; it reports false when it was already forgotten.
func (l *Limiter) forget(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.gone {
		return false
	}
	c.gone = true
	if c.elem != nil {
		l.evictable.Remove(c.elem)
		c.elem = nil
	}
	l.open--
	l.room.Signal()
	return true
}

// admit tracks nc, first making room when the bound is reached: it closes
// the connection that has waited longest without a complete request, or,
// when all are busy, waits until one ends or turns idle. It returns nil
// when the listener was closed meanwhile.
func (l *Limiter) admit(nc net.Conn) *Conn {
	l.mu.Lock()
	var victim *Conn
	for l.open >= l.max && !l.closed {
		if front := l.evictable.Front(); front != nil {
			victim = front.Value.(*Conn)
			l.evictable.Remove(front)
			victim.elem = nil
			victim.gone = true
			l.open--
			break
		}
		if l.onWait != nil {
			l.onWait()
		}
		l.room.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	c := &Conn{Conn: nc, l: l}
	c.elem = l.evictable.PushBack(c)
	l.open++
	l.mu.Unlock()

	if victim != nil {
		_ = victim.Conn.Close() // its server goroutine sees the error and ends
	}
	return c
}

// shut wakes Accept for good: the listener is closed.
func (l *Limiter) shut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.room.Broadcast()
}
