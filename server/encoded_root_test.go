package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestSplitEncodedRoot(t *testing.T) {
	tests := []struct {
		escaped, want string
		split         bool
	}{
		{"/filesystem%2Ftmp/x", "/filesystem/%2Ftmp/x", true},
		{"/filesystem%2ftmp/x", "/filesystem/%2ftmp/x", true}, // escapes are case-insensitive
		{"/filesystem%2F", "/filesystem/%2F", true},
		{"/filesystem/tree%2Fa", "/filesystem/tree/%2Fa", true},
		{"/watch/filesystem%2Ftmp%2Fd", "/watch/filesystem/%2Ftmp%2Fd", true},
		{"/filesystem-find%2Ftmp", "/filesystem-find/%2Ftmp", true},
		{"/filesystem-search%2Ftmp", "/filesystem-search/%2Ftmp", true},
		{"/filesystem-content-search%2Ftmp", "/filesystem-content-search/%2Ftmp", true},
		{"/filesystem-multipart/initiate%2Ftmp/big", "/filesystem-multipart/initiate/%2Ftmp/big", true},
		{"/codegen/fastapply%2Ftmp/a", "/codegen/fastapply/%2Ftmp/a", true},
		{"/codegen/reranking%2Ftmp", "/codegen/reranking/%2Ftmp", true},
		// Already split, or not a path-taking prefix: left alone.
		{"/filesystem/%2Ftmp%2Fx", "/filesystem/%2Ftmp%2Fx", false},
		{"/filesystem/src%2Ftree%2Fx", "/filesystem/src%2Ftree%2Fx", false},
		{"/filesystem%2", "/filesystem%2", false},
		{"/filesystemx%2Ftmp", "/filesystemx%2Ftmp", false},
		{"/filesystem-multipart%2Ftmp", "/filesystem-multipart%2Ftmp", false},
		{"/process%2F1", "/process%2F1", false},
	}
	prefixes := pathPrefixes()
	for _, tc := range tests {
		got, split := splitEncodedRoot(tc.escaped, prefixes)
		if got != tc.want || split != tc.split {
			t.Errorf("splitEncodedRoot(%q) = %q, %v; want %q, %v", tc.escaped, got, split, tc.want, tc.split)
		}
	}
}

// TestEncodedRootSlashRoutes: the glued form reaches the route of the
// split one, and the handler reads the absolute path from it.
func TestEncodedRootSlashRoutes(t *testing.T) {
	var got string
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Get("/filesystem-content-search/*", func(w http.ResponseWriter, r *http.Request) {
			p, err := pathAfter(r, "/filesystem-content-search/")
			if err != nil {
				t.Errorf("pathAfter: %v", err)
			}
			got = p
		})
	})
	rec := s.do(httptest.NewRequest(http.MethodGet, "/filesystem-content-search%2Ftmp/a%20b?query=x", nil))
	if rec.Code != http.StatusOK || got != "/tmp/a b" {
		t.Errorf("glued form: %d %s, handler saw %q; want 200 and /tmp/a b", rec.Code, rec.Body, got)
	}
}
