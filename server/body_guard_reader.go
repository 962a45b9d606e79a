package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
)

// guardedBody is a request body whose reads must make progress.
type guardedBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	r    *http.Request // for its context, to report completion
	eof  atomic.Bool   // the body was read to its end

	mu     sync.Mutex
	pushed time.Time // when the read deadline was last moved
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.pushDeadline()
	n, err := b.body.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		b.complete()
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = stalledBodyError{idle: b.idle, err: err}
	}
	return n, err
}

// pushDeadline moves the read deadline to idle from now. Moving it costs
// a timer update, so it is moved at most every idle/8: a read then always
// has at least 7/8 of idle.
func (b *guardedBody) pushDeadline() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.eof.Load() {
		// Past the end, net/http reads the connection in the background
		// to notice a client that goes away, for as long as the answer
		// takes (a process wait, a stream): no deadline may come back.
		return
	}
	if now := time.Now(); now.Sub(b.pushed) > b.idle/8 {
		// Writers that cannot set deadlines (handler tests) are left as is.
		_ = b.rc.SetReadDeadline(now.Add(b.idle))
		b.pushed = now
	}
}

// complete records that the body is all in. net/http lifts the read
// deadline itself as it starts its background read at the end of the body.
func (b *guardedBody) complete() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.eof.Swap(true) {
		connlimit.RequestComplete(b.r.Context())
	}
}

// Close lets net/http read what is left of the body (up to 256 KiB, to
// keep the connection), under the same deadline as any other read.
func (b *guardedBody) Close() error {
	b.pushDeadline()
	err := b.body.Close()
	if err == nil {
		b.complete() // read to its end, or given up: either way, not ours to wait for
	}
	return err
}

// stalledBodyError is a body read cut because nothing came for idle. Its
// message leaves out the socket error (addresses, "i/o timeout").
type stalledBodyError struct {
	idle time.Duration
	err  error
}

func (e stalledBodyError) Error() string {
	return fmt.Sprintf("request body: nothing received for %s", e.idle)
}

func (e stalledBodyError) Unwrap() error { return e.err }

// bodyStalled reports a body read that failed because the client sent
// nothing for the idle timeout (408).
func bodyStalled(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
