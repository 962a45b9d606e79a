package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
)

// DefaultBodyIdleTimeout is how long a request body may send nothing
// before its connection is cut (408 when the handler can still answer).
// A slow upload that keeps moving is never cut; one that stalls would
// otherwise hold its connection, a goroutine and maybe a temporary file
// for as long as the client likes.
const DefaultBodyIdleTimeout = 60 * time.Second

// DefaultHeaderTimeout bounds the time to receive a request's headers,
// from the connection's start or from the first bytes of a request on a
// kept-alive one (the http.Server's ReadHeaderTimeout): a client that
// sends headers a byte at a time cannot hold a connection longer.
const DefaultHeaderTimeout = 10 * time.Second

// unreadBodyGrace is how long the rest of a body is read after an answer
// sent before it (at most 256 KiB, net/http's limit): a client still
// sending reads the answer instead of a reset, and a body that does not
// come holds its connection no longer.
const unreadBodyGrace = time.Second

// guardBody is the one place where request bodies are bounded in time,
// whatever route reads them (JSON, stdin, uploads, multipart parts, MCP):
//
//   - each read must bring data within idle, or the read fails (the
//     connection's read deadline moves forward as data arrives);
//   - an answer that starts while the body is still unread (a refusal:
//     401, 403, 404, 405, 413, 415...) does not wait for it: it carries
//     "Connection: close", so net/http sends it at once instead of first
//     draining up to 256 KiB of a body that may never come; afterwards
//     what is left of the body is read for at most unreadBodyGrace (so
//     that a client still sending it reads the answer, not a reset), and
//     the connection is closed;
//   - once the body is read to its end (at once for a request without
//     one) the request is complete, and the connection limiter keeps its
//     connection (see connlimit).
//
// Requests without a body (websockets, log streams) get no deadline at
// all.
func guardBody(idle time.Duration) func(http.Handler) http.Handler {
	if idle <= 0 {
		idle = DefaultBodyIdleTimeout
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				connlimit.RequestComplete(r.Context())
				next.ServeHTTP(w, r)
				return
			}
			body := &guardedBody{body: r.Body, rc: http.NewResponseController(w), idle: idle, r: r}
			r.Body = body
			gw := &guardedWriter{ResponseWriter: w, body: body}
			defer gw.finish()
			next.ServeHTTP(gw, r)
		})
	}
}

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

// guardedWriter marks an answer that starts before the request body was
// read to its end (see guardBody).
type guardedWriter struct {
	http.ResponseWriter
	body     *guardedBody
	answered bool
}

// answer runs as the answer starts.
func (gw *guardedWriter) answer() {
	if gw.answered {
		return
	}
	gw.answered = true
	if !gw.body.eof.Load() {
		gw.Header().Set("Connection", "close")
	}
}

func (gw *guardedWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols { // 1xx are not the answer yet
		gw.answer()
	}
	gw.ResponseWriter.WriteHeader(code)
}

func (gw *guardedWriter) Write(p []byte) (int, error) {
	gw.answer()
	return gw.ResponseWriter.Write(p)
}

func (gw *guardedWriter) Flush() {
	gw.answer()
	_ = http.NewResponseController(gw.ResponseWriter).Flush()
}

// ReadFrom keeps the fast path (sendfile) of the writer below.
func (gw *guardedWriter) ReadFrom(src io.Reader) (int64, error) {
	gw.answer()
	return io.Copy(gw.ResponseWriter, src)
}

// Hijack serves code that still type-asserts http.Hijacker.
func (gw *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(gw.ResponseWriter).Hijack()
}

func (gw *guardedWriter) Unwrap() http.ResponseWriter { return gw.ResponseWriter }

// finish runs when the handler is done. A body still unread is given
// unreadBodyGrace to drain: net/http reads it after the answer (or, when
// the handler wrote nothing, before its empty 200, which then says
// "Connection: close" too).
func (gw *guardedWriter) finish() {
	if gw.body.eof.Load() {
		return
	}
	gw.answer()
	_ = gw.body.rc.SetReadDeadline(time.Now().Add(unreadBodyGrace))
}
