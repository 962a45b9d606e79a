package server

import (
	"net/http/httptest"
	"testing"
)

func TestPathAfter(t *testing.T) {
	tests := []struct {
		target, prefix, want string
		wantErr              bool
	}{
		{"/filesystem/%2Ftmp%2Fa.txt", "/filesystem/", "/tmp/a.txt", false},
		{"/filesystem//tmp/a.txt", "/filesystem/", "/tmp/a.txt", false},
		{"/filesystem/src/a.txt", "/filesystem/", "src/a.txt", false},
		{"/filesystem/", "/filesystem/", "", false},
		{"/filesystem/%2Ftmp%2Fa%20b%23c%3Fd%C3%A9.txt", "/filesystem/", "/tmp/a b#c?dé.txt", false},
		{"/filesystem//tmp/a%20b.txt", "/filesystem/", "/tmp/a b.txt", false},
		{"/filesystem/tree//tmp/dir", "/filesystem/tree/", "/tmp/dir", false},
		{"/filesystem/%2Ftmp%00x", "/filesystem/", "", true},
		{"/other/x", "/filesystem/", "", true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", tc.target, nil)
		got, err := pathAfter(r, tc.prefix)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("pathAfter(%q, %q) = %q, %v; want %q, error %v", tc.target, tc.prefix, got, err, tc.want, tc.wantErr)
		}
	}
}
