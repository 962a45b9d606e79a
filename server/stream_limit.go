package server

import (
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
}

func newStreamLimit(n int) *streamLimit {
	if n <= 0 {
		n = DefaultMaxStreams
	}
	return &streamLimit{slots: make(chan struct{}, n)}
}

// acquire takes a slot, or answers 503 and reports false when none is left.
func (l *streamLimit) acquire(w http.ResponseWriter) (release func(), ok bool) {
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, true
	default:
		writeError(w, http.StatusServiceUnavailable,
			fmt.Sprintf("too many streams open (%d, --max-streams): close one and retry", cap(l.slots)))
		return nil, false
	}
}

// wrap runs h in a slot. A HEAD runs only until h has chosen its headers
// (see headersOnly): it gets GET's answer without waiting for a stream.
func (l *streamLimit) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		release, ok := l.acquire(w)
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
