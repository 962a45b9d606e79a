package main

// Black-box tests of the bounds of watches (issue 12): a recursive watch of
// "/" never enters /proc, /sys or /dev, and one watch holds at most
// --max-watch-folders folders.

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/watch"
)

// daemonWatchDevs lists the device (as the kernel prints it in fdinfo) of
// every inotify watch the process holds.
func daemonWatchDevs(t *testing.T, pid int) []uint64 {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var devs []uint64
	for _, fd := range fds {
		if target, err := os.Readlink(dir + "/fd/" + fd.Name()); err != nil || target != "anon_inode:inotify" {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(info), "\n") {
			if !strings.HasPrefix(line, "inotify wd:") {
				continue
			}
			for _, field := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(field, "sdev:"); ok {
					dev, err := strconv.ParseUint(v, 16, 64)
					if err != nil {
						t.Fatalf("fdinfo line %q: %v", line, err)
					}
					devs = append(devs, dev)
				}
			}
		}
	}
	return devs
}

// fdinfoDev is the device of path in fdinfo's form (MAJOR<<20 | MINOR).
func fdinfoDev(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev))
}

// openArmedWatch opens a watch and waits, up to hangGuard, for its 200:
// the daemon answers once the whole tree is watched.
func openArmedWatch(t *testing.T, d *daemon, target string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	got := make(chan *http.Response, 1)
	go func() {
		resp, err := d.stream.Do(d.request(ctx, http.MethodGet, target, nil))
		if err != nil {
			t.Errorf("GET %s: %v", target, err)
		}
		got <- resp
	}()
	select {
	case resp := <-got:
		if resp == nil {
			t.FailNow()
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", target, resp.StatusCode)
		}
		return resp
	case <-time.After(hangGuard):
		t.Fatalf("GET %s: not armed within %s", target, hangGuard)
		return nil
	}
}

// TestWatchOfRootSkipsKernelFolders: the kernel watches a recursive watch
// of "/" holds stay within the bound, and none is on /proc, /sys or /dev.
// Today's daemon entered all three (31,000 watches on a Debian image).
func TestWatchOfRootSkipsKernelFolders(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	openArmedWatch(t, d, "/watch/filesystem/"+url.PathEscape("/**"))
	devs := daemonWatchDevs(t, d.pid)
	t.Logf("a watch of / holds %d kernel watches", len(devs))
	if len(devs) > watch.DefaultMaxFolders {
		t.Errorf("%d kernel watches, over the bound of %d", len(devs), watch.DefaultMaxFolders)
	}
	root := fdinfoDev(t, "/")
	for _, kernel := range []string{"/proc", "/sys", "/dev"} {
		dev := fdinfoDev(t, kernel)
		if dev == root {
			continue // not a file system of its own here: nothing to tell apart
		}
		n := 0
		for _, d := range devs {
			if d == dev {
				n++
			}
		}
		if n > 0 {
			t.Errorf("%d kernel watches on the file system of %s", n, kernel)
		}
	}
}

// TestWatchFolderBound: past --max-watch-folders a folder is not watched,
// an ERROR event says which, and the watch goes on.
func TestWatchFolderBound(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--max-watch-folders", "3"}})
	dir := t.TempDir()
	for _, sub := range []string{"a", "b", "c", "d", "e"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, before := daemonInotify(d.pid)
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir+"/**"), nil)
	s.wantStream(t)
	if _, n := daemonInotify(d.pid); n-before != 3 {
		t.Fatalf("%d kernel watches held, want 3", n-before)
	}
	ev := s.next(t)
	if testsupport.Deref(ev.Op) != "ERROR" || !strings.Contains(testsupport.Deref(ev.Error), "the most one watch may hold") {
		t.Fatalf("first event %v, want the ERROR of the bound", ev)
	}
	// Changes in a watched folder still come.
	touch(t, filepath.Join(dir, "a", "still-seen"))
	s.waitEvent(t, "CREATE", filepath.Join(dir, "a", "still-seen"))
}
