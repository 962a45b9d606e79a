package filesystem

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestSearchContentSkipsFIFOs: opening a FIFO for reading blocks until a
// writer comes, so a search must never open one.
func TestSearchContentSkipsFIFOs(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"a.txt": "needle\n"})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newSearchFS(t, root)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, _, err := f.SearchContent(context.Background(), root, ContentSearchOptions{Query: "needle"})
		done <- result{len(got), err}
	}()
	select {
	case r := <-done:
		if r.err != nil || r.n != 1 {
			t.Errorf("search beside a FIFO: %d matches, %v; want 1, nil", r.n, r.err)
		}
	case <-time.After(testsupport.HangGuard):
		t.Fatal("search blocked on a FIFO")
	}
}
