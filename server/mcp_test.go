package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A plain error is held back whole only up to maxMCPErrorText, however
// much the handler writes in one go, and is answered as the API's JSON.
func TestMCPJSONErrorsBoundsTheHeldText(t *testing.T) {
	long := strings.Repeat("x", 64<<10)
	h := mcpJSONErrors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, long, http.StatusBadRequest)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	msg := decodeError(t, rec)
	if want := "mcp: " + long[:maxMCPErrorText]; msg != want {
		t.Errorf("error of %d bytes, want the first %d bytes of the text after \"mcp: \"", len(msg), maxMCPErrorText)
	}
}
