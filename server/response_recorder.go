package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseRecorder remembers the status and body size for the access log
// while staying transparent to streaming handlers: Flush, ReadFrom and Hijack
// reach the real writer, and Unwrap lets http.ResponseController find it (to
// set write deadlines, for instance).
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	held        heldAnswer // a small answer kept whole until the handler returns (answer_hold.go)
	requestID   string     // the request's id (tagRequest)
}

// recorderFor reuses the recorder an outer middleware already installed, so
// the access log and the panic recovery see the same state.
func recorderFor(w http.ResponseWriter) *responseRecorder {
	if rec, ok := w.(*responseRecorder); ok {
		return rec
	}
	return &responseRecorder{ResponseWriter: w}
}

func (rr *responseRecorder) WriteHeader(code int) {
	// 1xx (except 101) are informational: the final status is still to come.
	informational := code >= 100 && code < 200 && code != http.StatusSwitchingProtocols
	if !rr.wroteHeader && !informational {
		rr.status = code
		rr.wroteHeader = true
	}
	if !informational && rr.held.keep(rr.ResponseWriter, code) {
		return
	}
	rr.ResponseWriter.WriteHeader(code)
}

// markImplicitOK records the 200 net/http sends when a body is written or
// flushed before any WriteHeader call.
func (rr *responseRecorder) markImplicitOK() {
	if !rr.wroteHeader {
		rr.status = http.StatusOK
		rr.wroteHeader = true
	}
}

func (rr *responseRecorder) Write(p []byte) (int, error) {
	rr.markImplicitOK()
	if rr.held.add(rr.ResponseWriter, p) {
		rr.bytes += int64(len(p))
		return len(p), nil
	}
	rr.held.release(rr.ResponseWriter)
	n, err := rr.ResponseWriter.Write(p)
	rr.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy on the fast path (sendfile) of the real writer.
func (rr *responseRecorder) ReadFrom(src io.Reader) (int64, error) {
	rr.markImplicitOK()
	rr.held.release(rr.ResponseWriter)
	n, err := io.Copy(rr.ResponseWriter, src)
	rr.bytes += n
	return n, err
}

func (rr *responseRecorder) Flush() {
	rr.markImplicitOK()
	rr.held.release(rr.ResponseWriter)
	// A writer that cannot flush has nothing buffered to push out.
	_ = http.NewResponseController(rr.ResponseWriter).Flush()
}

// Hijack serves code that still type-asserts http.Hijacker.
func (rr *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	rr.held.release(rr.ResponseWriter)
	return http.NewResponseController(rr.ResponseWriter).Hijack()
}

func (rr *responseRecorder) Unwrap() http.ResponseWriter {
	return rr.ResponseWriter
}
