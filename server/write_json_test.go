package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		value      any
		wantStatus int
		wantBody   string
	}{
		{name: "value", status: http.StatusCreated, value: map[string]int{"a": 1}, wantStatus: http.StatusCreated, wantBody: `{"a":1}`},
		{name: "no HTML escaping", status: http.StatusOK, value: map[string]string{"cmd": "a && b > c <d>"}, wantStatus: http.StatusOK, wantBody: `{"cmd":"a && b > c <d>"}`},
		{name: "unencodable value becomes a 500 error", status: http.StatusOK, value: func() {}, wantStatus: http.StatusInternalServerError, wantBody: `{"error":"encode response: json: unsupported type: func()"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, tt.status, tt.value)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, http.StatusTeapot, `quote " and <tag>`)
	if rec.Code != http.StatusTeapot {
		t.Errorf("status = %d", rec.Code)
	}
	if got := decodeError(t, rec); got != `quote " and <tag>` {
		t.Errorf("error = %q", got)
	}
}

func TestFallbackRoutes(t *testing.T) {
	s := newTestServer(t, Options{}, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantError  string
		wantAllow  string
	}{
		{name: "unknown route", method: http.MethodGet, path: "/nope", wantStatus: http.StatusNotFound, wantError: "route not found: GET /nope"},
		{name: "unknown nested route", method: http.MethodDelete, path: "/a/b/c", wantStatus: http.StatusNotFound, wantError: "route not found: DELETE /a/b/c"},
		{name: "wrong method", method: http.MethodPost, path: "/health", wantStatus: http.StatusMethodNotAllowed, wantError: "method POST not allowed on /health", wantAllow: "GET, HEAD, OPTIONS"},
		{name: "method chi does not know", method: "BREW", path: "/health", wantStatus: http.StatusMethodNotAllowed, wantError: "method BREW not allowed on /health", wantAllow: "GET, HEAD, OPTIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if got := decodeError(t, rec); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}
