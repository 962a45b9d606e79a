package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// findTree makes folders d000..d(n-1) of perFolder files each, plus an
// empty last folder "zz", under a fresh root.
func findTree(t *testing.T, folders, perFolder int) string {
	t.Helper()
	root := t.TempDir()
	for i := range folders {
		sub := filepath.Join(root, fmt.Sprintf("d%03d", i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range perFolder {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("a-rather-long-file-name-%04d.txt", j)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(root, "zz"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func findHandler(t *testing.T, root string) http.Handler {
	t.Helper()
	fsys, err := filesystem.New(filesystem.Config{WorkingDir: root, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fsys.Close)
	return New(Options{}, Services{Files: fsys})
}

// firstWriteHook calls hook once, on the first write of the body.
type firstWriteHook struct {
	*httptest.ResponseRecorder
	hook func()
}

func (w *firstWriteHook) Write(p []byte) (int, error) {
	if w.hook != nil {
		w.hook()
		w.hook = nil
	}
	return w.ResponseRecorder.Write(p)
}

// TestFindAnswerIsStreamed: the answer starts leaving while the walk is
// still going: a file made at the first write, in the last folder (not yet
// read), is in the answer. An answer built whole before being sent could
// not contain it.
func TestFindAnswerIsStreamed(t *testing.T) {
	root := findTree(t, 40, 50) // 2,000 matches, well over findAnswerBuffer
	late := filepath.Join(root, "zz", "late.txt")
	w := &firstWriteHook{ResponseRecorder: httptest.NewRecorder(), hook: func() {
		if err := os.WriteFile(late, nil, 0o644); err != nil {
			t.Error(err)
		}
	}}
	req := httptest.NewRequest(http.MethodGet, "/filesystem-find/"+url.PathEscape(root)+"?type=file&maxResults=0", nil)
	findHandler(t, root).ServeHTTP(w, req)

	var got struct {
		Matches []struct {
			Path string `json:"path"`
		} `json:"matches"`
		Total     int  `json:"total"`
		Truncated bool `json:"truncated"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil {
		t.Fatalf("find: %d %.300s", w.Code, w.Body)
	}
	paths := make([]string, len(got.Matches))
	for i, m := range got.Matches {
		paths[i] = m.Path
	}
	if !slices.Contains(paths, "zz/late.txt") || got.Total != 2001 || len(paths) != 2001 || got.Truncated {
		t.Errorf("%d matches (total %d, truncated %v), zz/late.txt found: %v; want 2001 with it",
			len(paths), got.Total, got.Truncated, slices.Contains(paths, "zz/late.txt"))
	}
}

// TestFindClientGoneMidAnswer: a client that leaves once the answer has
// started stops the walk, and the connection is cut rather than the
// answer closed as if complete.
func TestFindClientGoneMidAnswer(t *testing.T) {
	root := findTree(t, 40, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &firstWriteHook{ResponseRecorder: httptest.NewRecorder(), hook: cancel}
	req := httptest.NewRequest(http.MethodGet, "/filesystem-find/"+url.PathEscape(root)+"?maxResults=0", nil).WithContext(ctx)
	aborted := func() (v any) {
		defer func() { v = recover() }()
		findHandler(t, root).ServeHTTP(w, req)
		return nil
	}()
	if aborted != http.ErrAbortHandler {
		t.Fatalf("the handler ended with %v, want the connection cut (http.ErrAbortHandler)", aborted)
	}
	if json.Valid(w.Body.Bytes()) {
		t.Errorf("a cut answer reads as a whole JSON document (%d bytes)", w.Body.Len())
	}
}

// TestFindErrorBeforeAnswerHasItsStatus: what fails before any match
// leaves gets a JSON error with its status.
func TestFindErrorBeforeAnswerHasItsStatus(t *testing.T) {
	root := t.TempDir()
	h := findHandler(t, root)
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/filesystem-find/" + url.PathEscape(filepath.Join(root, "missing")), http.StatusNotFound},
		{"/filesystem-find/" + url.PathEscape(root) + "?type=socket", http.StatusBadRequest},
		{"/filesystem-find/" + url.PathEscape(root) + "?maxResults=-1", http.StatusBadRequest},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
		if rec.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.target, rec.Code, tc.status)
		}
		decodeError(t, rec)
	}
}
