package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/watch"
)

func TestWatchTarget(t *testing.T) {
	tests := []struct {
		in, path  string
		recursive bool
	}{
		{"/tmp/dir", "/tmp/dir", false},
		{"/tmp/dir/**", "/tmp/dir", true},
		{"src/**", "src", true},
		{"**", "", true},
		{"/**", "/", true},
		{"", "", false},
		{"/tmp/a**", "/tmp/a**", false}, // only a whole "/**" element asks for the tree
	}
	for _, tc := range tests {
		path, recursive := watchTarget(tc.in)
		if path != tc.path || recursive != tc.recursive {
			t.Errorf("watchTarget(%q) = %q, %v; want %q, %v", tc.in, path, recursive, tc.path, tc.recursive)
		}
	}
}

func TestIgnorePatterns(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"?ignore=a,b", []string{"a", "b"}},
		{"?ignore=a&ignore=b,c", []string{"a", "b", "c"}},
		{"?ignore=node_modules%2C.git", []string{"node_modules", ".git"}},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/watch/filesystem/x"+tc.query, nil)
		if got := ignorePatterns(r); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ignorePatterns(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestWatchErrorStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{&os.PathError{Op: "stat", Path: "/x", Err: syscall.ENOENT}, http.StatusNotFound},
		{&os.PathError{Op: "stat", Path: "/x/y", Err: syscall.ENOTDIR}, http.StatusNotFound},
		{&os.PathError{Op: "stat", Path: "/x", Err: syscall.ENAMETOOLONG}, http.StatusBadRequest},
		{&os.PathError{Op: "stat", Path: "/x", Err: syscall.EACCES}, http.StatusForbidden},
		{fmt.Errorf("watch /x: %w", watch.ErrLimit), http.StatusServiceUnavailable},
		{errors.New("something else"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		if got := watchRoutes.statusOf(tc.err); got != tc.want {
			t.Errorf("watchErrorStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
