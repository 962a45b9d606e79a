package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"
)

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
