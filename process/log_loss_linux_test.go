package process

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
)

// fillDisk writes a new file until the disk is full and returns its path.
func fillDisk(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := bytes.Repeat([]byte("f"), 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

func copyAll(t *testing.T, l *Log, streams Stream) string {
	t.Helper()
	var out bytes.Buffer
	if err := l.Copy(context.Background(), &out, streams); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestLogLossIsReported: output a full disk could not keep is not silently
// missing: readers get a marker with the count where it was lost, once the
// log can be written again, or at the end when it never could.
func TestLogLossIsReported(t *testing.T) {
	lost := strings.Repeat("x", 100<<10)
	t.Run("disk frees up", func(t *testing.T) {
		dir := testdisk.Small(t, "1m")
		l := newTestLogIn(dir, 64<<20)
		mustAppend(t, l, Stdout, "before\n")
		filler := fillDisk(t, dir, "filler")
		if _, err := l.Append(Stdout, []byte(lost)); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, Stderr, "after\n")
		l.Finish()
		want := "before\n" + LossMarker(int64(len(lost))) + "after\n"
		if got := copyAll(t, l, Both); got != want {
			t.Fatalf("log reads %q, want %q", got, want)
		}
		// A single stream gets the marker too, in place.
		if got := copyAll(t, l, Stdout); got != "before\n"+LossMarker(int64(len(lost))) {
			t.Fatalf("stdout reads %q", got)
		}
		// The tail has the marker in place too.
		tail, _, err := l.Tail(Both, 1<<20)
		if err != nil || string(tail) != want {
			t.Fatalf("Tail = %q, %v; want %q", tail, err, want)
		}
		tail, _, err = l.Tail(Stderr, 1<<20)
		if err != nil || string(tail) != LossMarker(int64(len(lost)))+"after\n" {
			t.Fatalf("stderr Tail = %q, %v", tail, err)
		}
	})
	t.Run("disk stays full", func(t *testing.T) {
		dir := testdisk.Small(t, "1m")
		l := newTestLogIn(dir, 64<<20)
		mustAppend(t, l, Stdout, "before\n")
		fillDisk(t, dir, "filler")
		_, _ = l.Append(Stdout, []byte(lost))
		// Cutting off the partial record freed some pages: take them too.
		fillDisk(t, dir, "filler2")
		// More than the free end of the file's last page.
		more := strings.Repeat("y", 8<<10)
		if _, err := l.Append(Stdout, []byte(more)); err == nil {
			t.Fatal("Append succeeded on a full disk")
		}
		l.Finish()
		// The first loss fit in the file's last page as a marker record;
		// the second is only known in memory and reported at the end.
		want := "before\n" + LossMarker(int64(len(lost))) + LossMarker(int64(len(more)))
		if got := copyAll(t, l, Both); got != want {
			t.Fatalf("log reads %q, want %q", got, want)
		}
		if tail, _, err := l.Tail(Both, 1<<20); err != nil || string(tail) != want {
			t.Fatalf("Tail = %q, %v; want %q", tail, err, want)
		}
	})
}

// TestLossMarkerIsALineOfItsOwn: in a single stream's copy, a marker that
// comes after a partial line starts on a new line.
func TestLossMarkerIsALineOfItsOwn(t *testing.T) {
	dir := testdisk.Small(t, "1m")
	l := newTestLogIn(dir, 64<<20)
	mustAppend(t, l, Stdout, "partial")
	filler := fillDisk(t, dir, "filler")
	lost := strings.Repeat("x", 100<<10)
	if _, err := l.Append(Stdout, []byte(lost)); err == nil {
		t.Fatal("Append succeeded on a full disk")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, Stdout, "next\n")
	l.Finish()
	want := "partial\n" + LossMarker(int64(len(lost))) + "next\n"
	if got := copyAll(t, l, Stdout); got != want {
		t.Fatalf("stdout reads %q, want %q", got, want)
	}
}
