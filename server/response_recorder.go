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
	n, err := rr.ResponseWriter.Write(p)
	rr.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy on the fast path (sendfile) of the real writer.
func (rr *responseRecorder) ReadFrom(src io.Reader) (int64, error) {
	rr.markImplicitOK()
	n, err := io.Copy(rr.ResponseWriter, src)
	rr.bytes += n
	return n, err
}

func (rr *responseRecorder) Flush() {
	rr.markImplicitOK()
	// A writer that cannot flush has nothing buffered to push out.
	_ = http.NewResponseController(rr.ResponseWriter).Flush()
}

// Hijack serves code that still type-asserts http.Hijacker.
func (rr *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rr.ResponseWriter).Hijack()
}

func (rr *responseRecorder) Unwrap() http.ResponseWriter {
	return rr.ResponseWriter
}
