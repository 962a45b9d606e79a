package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

func TestAttachment(t *testing.T) {
	tests := []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"`},
		{"with space.txt", `attachment; filename="with space.txt"`},
		{"ü.txt", `attachment; filename="_.txt"; filename*=UTF-8''%C3%BC.txt`},
		{`say "hi".txt`, `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`},
		{`back\slash`, `attachment; filename="back_slash"; filename*=UTF-8''back%5Cslash`},
		{"tab\there", `attachment; filename="tab_here"; filename*=UTF-8''tab%09here`},
		{"100%;x.txt", `attachment; filename="100%;x.txt"`},
	}
	for _, tc := range tests {
		if got := attachment(tc.name); got != tc.want {
			t.Errorf("attachment(%q) = %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestContentTypeOf(t *testing.T) {
	tests := []struct{ name, want string }{
		{"a.json", "application/json"},
		{"a.html", "text/html"}, // no "; charset=utf-8"
		{"a.PNG", "image/png"},
		{"Makefile", "application/octet-stream"},
		{"a.nosuchextension", "application/octet-stream"},
	}
	for _, tc := range tests {
		if got := contentTypeOf(tc.name); got != tc.want {
			t.Errorf("contentTypeOf(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAcceptsOctetStream(t *testing.T) {
	tests := []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"application/json"}, false},
		{[]string{"*/*"}, false},
		{[]string{"application/octet-stream"}, true},
		{[]string{"text/plain, Application/Octet-Stream;q=0.9"}, true},
		{[]string{"application/json", "application/octet-stream"}, true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/filesystem/x", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		if got := acceptsOctetStream(r); got != tc.want {
			t.Errorf("Accept %q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestFSErrorStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	tests := []struct {
		err  error
		want int
	}{
		{wrap(fs.ErrNotExist), http.StatusNotFound},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, http.StatusNotFound},
		{wrap(filesystem.ErrInvalidPath), http.StatusBadRequest},
		{wrap(filesystem.ErrInvalidPermissions), http.StatusBadRequest},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENAMETOOLONG}, http.StatusBadRequest},
		{wrap(filesystem.ErrSourceRead), http.StatusBadRequest},
		{wrap(filesystem.ErrNotEmpty), http.StatusUnprocessableEntity},
		{wrap(filesystem.ErrIsDirectory), http.StatusUnprocessableEntity},
		{wrap(filesystem.ErrNotDirectory), http.StatusUnprocessableEntity},
		{wrap(filesystem.ErrNotRegular), http.StatusUnprocessableEntity},
		{wrap(filesystem.ErrTooLarge), http.StatusRequestEntityTooLarge},
		{wrap(&http.MaxBytesError{Limit: 1}), http.StatusRequestEntityTooLarge},
		{wrap(filesystem.ErrNoSpace), http.StatusInsufficientStorage},
		{fmt.Errorf("%w: %w", filesystem.ErrSourceRead, os.ErrDeadlineExceeded), http.StatusRequestTimeout},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, http.StatusForbidden},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, http.StatusForbidden},
		{errors.New("something else"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		if got := fileRoutes.statusOf(tc.err); got != tc.want {
			t.Errorf("fsErrorStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestDownloadWriterReadFrom: the chunked copy moves every byte, keeps a
// LimitedReader's count right, and stops at the end of a short source.
func TestDownloadWriterReadFrom(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (3*downloadChunk+100)/16)
	tests := []struct {
		name  string
		src   func() io.Reader
		want  int
		wantN int64 // what is left in the LimitedReader
	}{
		{"limited to all", func() io.Reader { return &io.LimitedReader{R: bytes.NewReader(data), N: int64(len(data))} }, len(data), 0},
		{"limited to part", func() io.Reader { return &io.LimitedReader{R: bytes.NewReader(data), N: downloadChunk + 7} }, downloadChunk + 7, 0},
		{"limit beyond the source", func() io.Reader { return &io.LimitedReader{R: bytes.NewReader(data), N: int64(len(data)) + 50} }, len(data), 50},
		{"plain reader", func() io.Reader { return bytes.NewReader(data) }, len(data), -1},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		dw := newDownloadWriter(rec)
		src := tc.src()
		n, err := dw.ReadFrom(src)
		dw.finish()
		if err != nil || n != int64(tc.want) || !bytes.Equal(rec.Body.Bytes(), data[:tc.want]) {
			t.Errorf("%s: copied %d (%v), body %d bytes; want %d", tc.name, n, err, rec.Body.Len(), tc.want)
		}
		if lr, ok := src.(*io.LimitedReader); ok && lr.N != tc.wantN {
			t.Errorf("%s: LimitedReader left at %d, want %d", tc.name, lr.N, tc.wantN)
		}
	}
}

func TestDownloadWriterTurnsErrorsIntoJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Disposition", `attachment; filename="x"`)
	dw := newDownloadWriter(rec)
	http.Error(dw, "invalid range: failed to overlap", http.StatusRequestedRangeNotSatisfiable)
	dw.finish()
	if rec.Code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("status %d", rec.Code)
	}
	if msg := decodeError(t, rec); msg != "invalid range: failed to overlap" {
		t.Errorf("message %q", msg)
	}
	if rec.Header().Get("Content-Disposition") != "" || !strings.Contains(rec.Header().Get("Cache-Control"), "no-store") {
		t.Errorf("error headers: %v", rec.Header())
	}
}
