package watch

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelWatches lists the sdev of every kernel watch of f's shared inotify
// instance, from its fdinfo (one "inotify wd:" line per watch).
func kernelWatches(t *testing.T, f *FS) []uint64 {
	t.Helper()
	f.watches.mu.Lock()
	cur := f.watches.cur
	f.watches.mu.Unlock()
	if cur == nil {
		return nil
	}
	file, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", cur.in.file.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var devs []uint64
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "inotify wd:") {
			continue
		}
		for _, field := range strings.Fields(sc.Text()) {
			if v, ok := strings.CutPrefix(field, "sdev:"); ok {
				dev, err := strconv.ParseUint(v, 16, 64)
				if err != nil {
					t.Fatalf("fdinfo line %q: %v", sc.Text(), err)
				}
				devs = append(devs, dev)
			}
		}
	}
	return devs
}

// kernelDev is the device of path as fdinfo prints it (the kernel's
// MAJOR<<20 | MINOR, not stat's encoding).
func kernelDev(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev))
}

func TestWatchHoldsAtMostMaxFolders(t *testing.T) {
	f, dir := newWatchFS(t)
	for i := range 10 {
		must(t, os.MkdirAll(filepath.Join(dir, fmt.Sprintf("d%d", i), "sub"), 0o755))
	}
	w, err := f.Watch(context.Background(), dir, Options{Recursive: true, MaxFolders: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if n := len(kernelWatches(t, f)); n != 4 {
		t.Fatalf("%d kernel watches held, want the bound, 4", n)
	}
	ev := nextEvent(t, w)
	if ev.Op != OpError || !strings.Contains(ev.Err, "holds 4 folders, the most one watch may hold") {
		t.Fatalf("first event %+v, want the ERROR of the bound", ev)
	}

	// A folder made later past the bound is an ERROR too, and not watched.
	late := filepath.Join(dir, "late")
	must(t, os.Mkdir(late, 0o755))
	for {
		ev := nextEvent(t, w)
		if ev.Op == OpError {
			if ev.Path != late {
				t.Fatalf("ERROR for %s, want %s", ev.Path, late)
			}
			break
		}
	}
	if n := len(kernelWatches(t, f)); n != 4 {
		t.Fatalf("%d kernel watches held after a new folder, want 4", n)
	}
}

// TestWatchOfRootSkipsKernelDirs: a recursive watch of "/" never enters
// /proc, /sys or /dev, as the searches do. Every other top-level folder is
// ignored here, so the watch must hold "/" alone.
func TestWatchOfRootSkipsKernelDirs(t *testing.T) {
	f, _ := newWatchFS(t)
	entries, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var ignore []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix("proc", name) || strings.HasPrefix("sys", name) || strings.HasPrefix("dev", name) {
			continue // the pattern would match the kernel folder itself
		}
		ignore = append(ignore, "/"+name)
	}
	w, err := f.Watch(context.Background(), "/", Options{Recursive: true, Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	devs := kernelWatches(t, f)
	for _, kernel := range []string{"/proc", "/sys", "/dev"} {
		dev := kernelDev(t, kernel)
		if dev == kernelDev(t, "/") {
			continue // not a file system of its own here
		}
		for _, d := range devs {
			if d == dev {
				t.Errorf("a kernel watch is on the file system of %s", kernel)
				break
			}
		}
	}
	if len(devs) != 1 {
		t.Fatalf("%d kernel watches held, want 1 (/ itself)", len(devs))
	}
}
