package server

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

const requestIDHeader = "X-Request-Id"

// corsAllowedMethods is what the existing sandbox API advertises.
const corsAllowedMethods = "GET, POST, PUT, DELETE, PATCH, OPTIONS"

// newRequestID returns 96 random bits as hex: enough to never collide within
// the logs of one sandbox. An id must be unique, not secret: math/rand/v2
// draws from the runtime's per-thread ChaCha8 state, seeded by the kernel,
// without a system call. crypto/rand's first draw sets up the vDSO's state
// (some 50 µs), which the first request after a start would wait for.
func newRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

// tagRequest gives the request a fresh id, in the X-Request-Id response
// header and on its recorder, where both log lines (access and panic) find
// it, so a client's report can be matched to a log line. It lives on the
// recorder rather than in the request's context: a context value costs a
// copy of the request, and of its context, on the way to every handler.
func tagRequest(rec *responseRecorder) {
	rec.requestID = newRequestID()
	rec.Header().Set(requestIDHeader, rec.requestID)
}

// accessLog tags each request with its id (tagRequest), then writes one
// JSON line per request once it is over (a small answer is on the wire by
// then: heldAnswer), including requests whose handler panicked (logged
// with aborted=true).
func accessLog(log *zap.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := recorderFor(w)
			rec.held.on = true // sent below, before the line (answer_hold.go)
			tagRequest(rec)
			completed := false
			defer func() {
				if completed { // an answer cut by a panic is not sent
					rec.held.send(rec.ResponseWriter, r.Method)
				}
				status := rec.status
				if completed && !rec.wroteHeader {
					status = http.StatusOK // what net/http sends for an empty reply
				}
				fields := []zap.Field{
					zap.String("method", r.Method),
					zap.String("path", r.URL.Path),
					zap.Int("status", status),
					zap.Int64("bytes", rec.bytes),
					zap.Duration("duration", time.Since(start)),
					zap.String("request_id", rec.requestID),
					zap.String("remote_addr", r.RemoteAddr),
				}
				if !completed {
					fields = append(fields, zap.Bool("aborted", true))
				}
				log.Info("http request", fields...)
			}()
			next.ServeHTTP(rec, r)
			completed = true
		})
	}
}

// recoverPanic turns a handler panic into a logged 500 so one bad request
// cannot take the daemon, and every process it manages, down.
func recoverPanic(log *zap.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := recorderFor(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v) // a deliberate abort: net/http handles it quietly
				}
				log.Error("panic serving request",
					zap.Any("panic", v),
					zap.String("method", r.Method),
					zap.String("path", r.URL.Path),
					zap.String("request_id", rec.requestID),
					zap.String("stack", string(debug.Stack())),
				)
				if rec.wroteHeader {
					// Too late for a 500: cut the connection so the client sees a
					// broken reply rather than a truncated success.
					panic(http.ErrAbortHandler)
				}
				// Headers the handler prepared describe a body that will not come.
				rec.Header().Del("Content-Length")
				rec.Header().Del("Content-Encoding")
				writeError(rec, http.StatusInternalServerError, "internal server error")
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// noStore forbids caching anywhere: every answer describes live sandbox state.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// cors opens the API to the browser pages allowed to use it, and answers
// every OPTIONS request itself (204) before auth and routing, since
// browsers send preflights without credentials. With a token any origin
// gets "*", like the existing sandbox API: a page still needs the token.
// Without one only the daemon's own pages and --allowed-origins get CORS
// headers (guardBrowsers has refused the others already).
func cors(token string, g *browserGuard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			allowOrigin := "*"
			if token == "" {
				h.Add("Vary", "Origin")
				allowOrigin = r.Header.Get("Origin")
				if allowOrigin != "" && !g.originAllowed(allowOrigin, r) {
					allowOrigin = ""
				}
			}
			if allowOrigin != "" {
				h.Set("Access-Control-Allow-Origin", allowOrigin)
				h.Set("Access-Control-Allow-Methods", corsAllowedMethods)
				// The "*" wildcard does not cover Authorization, so echo what
				// the browser asks for when it says.
				allowHeaders := r.Header.Get("Access-Control-Request-Headers")
				if allowHeaders == "" {
					allowHeaders = "*"
				}
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Expose-Headers", requestIDHeader)
			}
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
