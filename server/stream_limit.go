package server

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// DefaultMaxStreams is how many streaming requests (log streams, watches,
// streamed execs, terminal sockets) are served at once unless Options says
// otherwise. Each holds a connection, goroutines and buffers for as long as
// its client stays, so without a bound a client opening them in a loop
// would grow the daemon without end.
const DefaultMaxStreams = 1024

// DefaultKeepaliveInterval is the period of the keepalive frames of streams
// that have nothing to send (Options.KeepaliveInterval): short enough that
// proxies, which commonly cut a connection silent for 30 to 60 seconds, keep
// it open, and a client gone is noticed soon.
const DefaultKeepaliveInterval = 10 * time.Second

// streamLimit hands out the slots of concurrent streaming requests.
type streamLimit struct {
	slots chan struct{}
	ends  context.Context // Options.StreamsEnd; nil: never
}

func newStreamLimit(n int, ends context.Context) *streamLimit {
	if n <= 0 {
		n = DefaultMaxStreams
	}
	return &streamLimit{slots: make(chan struct{}, n), ends: ends}
}

// acquire takes a slot, or answers 503 and reports false when none is left.
// The request it returns ends with Options.StreamsEnd as well as with its
// client; release gives the slot back.
func (l *streamLimit) acquire(w http.ResponseWriter, r *http.Request) (_ *http.Request, release func(), ok bool) {
	select {
	case l.slots <- struct{}{}:
	default:
		writeError(w, http.StatusServiceUnavailable,
			fmt.Sprintf("too many streams open (%d, --max-streams): close one and retry", cap(l.slots)))
		return r, nil, false
	}
	if l.ends == nil {
		return r, func() { <-l.slots }, true
	}
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(l.ends, cancel)
	return r.WithContext(ctx), func() { stop(); cancel(); <-l.slots }, true
}

// wrap runs h in a slot. A HEAD runs only until h has chosen its headers
// (see headersOnly): it gets GET's answer without waiting for a stream.
func (l *streamLimit) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r, release, ok := l.acquire(w, r)
		if !ok {
			return
		}
		defer release()
		if r.Method == http.MethodHead {
			headersOnly(h)(w, r)
			return
		}
		h(w, r)
	}
}
