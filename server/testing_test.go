package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// testServer is the full handler with a log observer; extra routes go behind
// the whole middleware stack.
type testServer struct {
	handler http.Handler
	logs    *observer.ObservedLogs
}

func newTestServer(t *testing.T, opts Options, extraRoutes func(chi.Router)) testServer {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	opts.Logger = zap.New(core)
	return testServer{handler: newHandler(opts, Services{}, extraRoutes), logs: logs}
}

func (s testServer) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

// decodeError returns the "error" field of a JSON error body, failing the
// test when the body is not exactly that shape.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
	}
	msg, ok := body["error"].(string)
	if !ok || len(body) != 1 || msg == "" {
		t.Fatalf("body = %s, want {\"error\": \"...\"}", rec.Body.String())
	}
	return msg
}
