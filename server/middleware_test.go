package server

import (
	"bufio"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestCORSPreflight(t *testing.T) {
	// With a token set, to prove preflights skip auth.
	s := newTestServer(t, Options{Token: "secret"}, nil)
	tests := []struct {
		name           string
		path           string
		requestHeaders string
		wantAllowHdrs  string
	}{
		{name: "known route, no requested headers", path: "/health", wantAllowHdrs: "*"},
		{name: "protected route echoes requested headers", path: "/process", requestHeaders: "authorization, content-type", wantAllowHdrs: "authorization, content-type"},
		{name: "unknown route", path: "/does/not/exist", wantAllowHdrs: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodOptions, tt.path, nil)
			req.Header.Set("Origin", "https://example.test")
			req.Header.Set("Access-Control-Request-Method", "POST")
			if tt.requestHeaders != "" {
				req.Header.Set("Access-Control-Request-Headers", tt.requestHeaders)
			}
			rec := s.do(req)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (%s)", rec.Code, rec.Body.String())
			}
			if rec.Body.Len() != 0 {
				t.Errorf("body = %q, want empty", rec.Body.String())
			}
			wantHeaders := map[string]string{
				"Access-Control-Allow-Origin":   "*",
				"Access-Control-Allow-Methods":  "GET, POST, PUT, DELETE, PATCH, OPTIONS",
				"Access-Control-Allow-Headers":  tt.wantAllowHdrs,
				"Access-Control-Expose-Headers": "X-Request-Id",
				"Cache-Control":                 "no-store",
			}
			for k, want := range wantHeaders {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// Every kind of answer carries the common headers: success, errors from
// each layer, and preflights.
func TestCommonHeadersOnEveryResponse(t *testing.T) {
	s := newTestServer(t, Options{Token: "secret"}, func(r chi.Router) {
		r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	tests := []struct {
		name       string
		method     string
		path       string
		auth       string
		wantStatus int
	}{
		{name: "health", method: http.MethodGet, path: "/health", wantStatus: http.StatusOK},
		{name: "unauthorized", method: http.MethodGet, path: "/process", wantStatus: http.StatusUnauthorized},
		{name: "not found", method: http.MethodGet, path: "/nope", auth: "Bearer secret", wantStatus: http.StatusNotFound},
		{name: "method not allowed", method: http.MethodPut, path: "/health", auth: "Bearer secret", wantStatus: http.StatusMethodNotAllowed},
		{name: "panic", method: http.MethodGet, path: "/boom", auth: "Bearer secret", wantStatus: http.StatusInternalServerError},
		{name: "preflight", method: http.MethodOptions, path: "/process", wantStatus: http.StatusNoContent},
	}
	seenIDs := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := s.do(req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
			id := rec.Header().Get("X-Request-Id")
			if _, err := hex.DecodeString(id); err != nil || len(id) != 24 {
				t.Errorf("X-Request-Id = %q, want 24 hex digits", id)
			}
			if seenIDs[id] {
				t.Errorf("X-Request-Id %q reused", id)
			}
			seenIDs[id] = true
		})
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		method     string
		path       string
		auth       string
		wantStatus int
		wantError  string
	}{
		{name: "no token configured: open", method: http.MethodGet, path: "/nope", wantStatus: http.StatusNotFound},
		{name: "missing header", token: "secret", method: http.MethodGet, path: "/nope", wantStatus: http.StatusUnauthorized, wantError: "missing bearer token: send Authorization: Bearer <token>"},
		{name: "wrong scheme", token: "secret", method: http.MethodGet, path: "/nope", auth: "Basic c2VjcmV0", wantStatus: http.StatusUnauthorized, wantError: "missing bearer token: send Authorization: Bearer <token>"},
		{name: "empty bearer", token: "secret", method: http.MethodGet, path: "/nope", auth: "Bearer ", wantStatus: http.StatusUnauthorized, wantError: "missing bearer token: send Authorization: Bearer <token>"},
		{name: "wrong token", token: "secret", method: http.MethodGet, path: "/nope", auth: "Bearer secreT", wantStatus: http.StatusUnauthorized, wantError: "invalid bearer token"},
		{name: "token prefix", token: "secret", method: http.MethodGet, path: "/nope", auth: "Bearer secre", wantStatus: http.StatusUnauthorized, wantError: "invalid bearer token"},
		{name: "right token", token: "secret", method: http.MethodGet, path: "/nope", auth: "Bearer secret", wantStatus: http.StatusNotFound},
		{name: "scheme is case-insensitive", token: "secret", method: http.MethodGet, path: "/nope", auth: "bearer secret", wantStatus: http.StatusNotFound},
		{name: "health is open", token: "secret", method: http.MethodGet, path: "/health", wantStatus: http.StatusOK},
		{name: "health with a wrong token is still open", token: "secret", method: http.MethodGet, path: "/health", auth: "Bearer nope", wantStatus: http.StatusOK},
		{name: "health subpath is protected", token: "secret", method: http.MethodGet, path: "/health/x", wantStatus: http.StatusUnauthorized, wantError: "missing bearer token: send Authorization: Bearer <token>"},
		{name: "preflight is open", token: "secret", method: http.MethodOptions, path: "/process", wantStatus: http.StatusNoContent},
		{name: "wrong method on health is not auth's business", token: "secret", method: http.MethodPost, path: "/health", wantStatus: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{Token: tt.token}, nil)
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := s.do(req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus != http.StatusUnauthorized {
				if got := rec.Header().Get("WWW-Authenticate"); got != "" {
					t.Errorf("WWW-Authenticate = %q on a %d", got, rec.Code)
				}
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
			if got := decodeError(t, rec); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		wantOK bool
	}{
		{header: "Bearer abc", want: "abc", wantOK: true},
		{header: "BEARER abc", want: "abc", wantOK: true},
		{header: "  Bearer   abc  ", want: "abc", wantOK: true},
		{header: "Bearer", wantOK: false},
		{header: "Bearer    ", wantOK: false},
		{header: "Bearerabc", wantOK: false},
		{header: "Basic abc", wantOK: false},
		{header: "", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("bearerToken(%q) = (%q, %v), want (%q, %v)", tt.header, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Get("/boom", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Content-Length", "1000")
			panic("kaboom")
		})
	})
	rec := s.do(httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	if got := decodeError(t, rec); got != "internal server error" {
		t.Errorf("error = %q", got)
	}
	// The 500 is sent whole (heldAnswer), with its own length.
	if got, want := rec.Result().Header.Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length %q on the 500, want %s (its body's)", got, want)
	}

	panics := s.logs.FilterMessage("panic serving request").All()
	if len(panics) != 1 {
		t.Fatalf("got %d panic log entries, want 1", len(panics))
	}
	entry := panics[0]
	if entry.Level != zapcore.ErrorLevel {
		t.Errorf("panic logged at %s, want error", entry.Level)
	}
	fields := entry.ContextMap()
	if fields["panic"] != "kaboom" {
		t.Errorf("panic field = %v", fields["panic"])
	}
	if stack, _ := fields["stack"].(string); !strings.Contains(stack, "TestPanicRecovery") {
		t.Errorf("stack does not show the panicking handler:\n%s", stack)
	}
	if id := rec.Header().Get("X-Request-Id"); id == "" || fields["request_id"] != id {
		t.Errorf("panic log's request id %q, the answer's %q: want the same, not empty", fields["request_id"], id)
	}

	access := s.logs.FilterMessage("http request").All()
	if len(access) != 1 || access[0].ContextMap()["status"] != int64(500) {
		t.Errorf("access log = %v, want one entry with status 500", access)
	}
}

// A deliberate abort must reach net/http untouched, without an error log.
func TestPanicRecoveryKeepsErrAbortHandler(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := recoverPanic(zap.New(core))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
		if logs.Len() != 0 {
			t.Errorf("abort was logged: %v", logs.All())
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

// Once the status is sent, a panic can only cut the connection: the client
// must not mistake the truncated body for a complete success.
func TestPanicAfterHeadersAbortsConnection(t *testing.T) {
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Get("/half", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			panic("late kaboom")
		})
	})
	ts := httptest.NewServer(s.handler)
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/half")
	if err != nil {
		return // the connection was cut before the headers arrived: fine
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("body read completed without error after a mid-stream panic")
	}
	if n := len(s.logs.FilterMessage("panic serving request").All()); n != 1 {
		t.Errorf("got %d panic log entries, want 1", n)
	}
}

func TestAccessLog(t *testing.T) {
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.Copy(w, r.Body) // through ReadFrom
		})
		r.Get("/silent", func(http.ResponseWriter, *http.Request) {})
	})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int64
		wantBytes  int64
	}{
		{name: "explicit status and body", method: http.MethodPost, path: "/echo", body: "hello world", wantStatus: 202, wantBytes: 11},
		{name: "empty reply counts as 200", method: http.MethodGet, path: "/silent", wantStatus: 200, wantBytes: 0},
		{name: "not found", method: http.MethodGet, path: "/missing", wantStatus: 404, wantBytes: int64(len(`{"error":"route not found: GET /missing"}` + "\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.logs.TakeAll()
			rec := s.do(httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))

			entries := s.logs.FilterMessage("http request").TakeAll()
			if len(entries) != 1 {
				t.Fatalf("got %d access log entries, want 1", len(entries))
			}
			e := entries[0]
			if e.Level != zapcore.InfoLevel {
				t.Errorf("level = %s, want info", e.Level)
			}
			f := e.ContextMap()
			checks := map[string]any{
				"method":     tt.method,
				"path":       tt.path,
				"status":     tt.wantStatus,
				"bytes":      tt.wantBytes,
				"request_id": rec.Header().Get("X-Request-Id"),
			}
			for k, want := range checks {
				if f[k] != want {
					t.Errorf("%s = %#v, want %#v", k, f[k], want)
				}
			}
			if d, ok := f["duration"].(time.Duration); !ok || d < 0 {
				t.Errorf("duration = %#v, want a non-negative time.Duration", f["duration"])
			}
			if _, aborted := f["aborted"]; aborted {
				t.Error("completed request logged as aborted")
			}
		})
	}
}

// Streaming handlers flush and set write deadlines through the middleware
// stack; both must reach the real connection.
func TestStreamingThroughMiddleware(t *testing.T) {
	release := make(chan struct{})
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if err := rc.SetWriteDeadline(time.Now().Add(testsupport.HangGuard)); err != nil {
				t.Errorf("SetWriteDeadline: %v", err)
			}
			_, _ = io.WriteString(w, "first\n")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			if _, ok := w.(http.Flusher); !ok {
				t.Error("writer does not implement http.Flusher")
			}
			<-release
			_, _ = io.WriteString(w, "second\n")
		})
	})
	ts := httptest.NewServer(s.handler)
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/stream")
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// Reading the first line while the handler still blocks proves the flush.
	line, err := br.ReadString('\n')
	close(release)
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
}
