package filesystem

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func openForTest(t *testing.T, f *FS, p string) (*os.File, FileInfo) {
	t.Helper()
	file, info, err := f.OpenFile(p)
	if err != nil {
		t.Fatalf("OpenFile(%s): %v", p, err)
	}
	t.Cleanup(func() { file.Close() })
	return file, info
}

// sysfsFile is a sysfs attribute every Linux has: its reported size is a
// page, its content a few bytes.
const sysfsFile = "/sys/devices/system/cpu/online"

func TestSizeKnown(t *testing.T) {
	f := newSearchFS(t, t.TempDir())
	dir := f.WorkingDir()
	must(t, os.WriteFile(filepath.Join(dir, "full"), []byte("content"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644))
	cases := map[string]bool{
		filepath.Join(dir, "full"):  true,
		filepath.Join(dir, "empty"): false, // read to its end: it may be a kernel file
		"/proc/self/status":         false,
		"/proc/self/pagemap":        false,
	}
	if _, err := os.Stat(sysfsFile); err == nil {
		cases[sysfsFile] = false
	}
	for p, want := range cases {
		file, info := openForTest(t, f, p)
		if got := SizeKnown(file, info); got != want {
			t.Errorf("SizeKnown(%s) = %v (size %d), want %v", p, got, info.Size, want)
		}
	}
}

func TestReadUnsized(t *testing.T) {
	f := newSearchFS(t, t.TempDir())

	file, _ := openForTest(t, f, "/proc/self/status")
	data, err := ReadUnsized(file, MaxUnsizedRead)
	if err != nil || !strings.HasPrefix(string(data), "Name:") || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("/proc/self/status: %q, %v; want it whole", data, err)
	}

	if _, err := os.Stat(sysfsFile); err == nil {
		file, info := openForTest(t, f, sysfsFile)
		data, err := ReadUnsized(file, MaxUnsizedRead)
		if err != nil || len(data) == 0 || int64(len(data)) >= info.Size || !strings.HasSuffix(string(data), "\n") {
			t.Fatalf("%s (reported size %d): %q, %v; want its few bytes whole", sysfsFile, info.Size, data, err)
		}
	}

	// pagemap has no useful end: refused past the bound, at a cost that
	// stays near the bound.
	file, _ = openForTest(t, f, "/proc/self/pagemap")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadUnsized(file, MaxUnsizedRead)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("/proc/self/pagemap: %v, want ErrTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*MaxUnsizedRead {
		t.Fatalf("reading /proc/self/pagemap allocated %d bytes, want at most a few times the %d bound", alloc, MaxUnsizedRead)
	}

	// A regular file of exactly the bound is whole; one byte more is not.
	dir := f.WorkingDir()
	must(t, os.WriteFile(filepath.Join(dir, "at"), make([]byte, 100), 0o644))
	file, _ = openForTest(t, f, filepath.Join(dir, "at"))
	if data, err := ReadUnsized(file, 100); err != nil || len(data) != 100 {
		t.Fatalf("a file of the bound: %d bytes, %v", len(data), err)
	}
	file, _ = openForTest(t, f, filepath.Join(dir, "at"))
	if _, err := ReadUnsized(file, 99); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a file over the bound: %v, want ErrTooLarge", err)
	}
}
