package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A batch stops at the first call that finds its client gone: what is left
// would run for nobody. The same batch with its client there is answered
// whole.
func TestBatchStopsWhenTheClientLeaves(t *testing.T) {
	h := Handler(newTestServices(t, t.TempDir()))
	const batch = `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`
	post := func(ctx context.Context) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mcp", strings.NewReader(batch))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := post(context.Background()); w.Code != http.StatusOK || strings.Count(w.Body.String(), `"result"`) != 2 {
		t.Fatalf("batch of two pings: %d %s, want both answered", w.Code, w.Body)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if w := post(gone); strings.Contains(w.Body.String(), `"result"`) {
		t.Fatalf("batch whose client left: %s, want no call run", w.Body)
	}
}
