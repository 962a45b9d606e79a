package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

// BenchmarkHealthThroughStack measures the fixed cost every request pays:
// the middleware stack, routing and a small JSON reply.
func BenchmarkHealthThroughStack(b *testing.B) {
	h := newHandler(Options{Logger: zap.NewNop(), Token: "secret"}, Services{}, nil)
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
