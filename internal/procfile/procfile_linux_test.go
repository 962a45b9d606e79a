package procfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "f")
	if err := os.WriteFile(existing, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, value string
		wantErr           error
		want              string
	}{
		{"writes from the start", existing, "12", nil, "12d"}, // no truncation: /proc files take the whole write
		{"missing file", filepath.Join(dir, "missing"), "1", unix.ENOENT, ""},
		{"a folder", dir, "1", unix.EISDIR, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Write(tt.path, tt.value)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Write: %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			got, _ := os.ReadFile(tt.path)
			if string(got) != tt.want {
				t.Fatalf("file holds %q, want %q", got, tt.want)
			}
		})
	}
}

// The daemon's own oom_score_adj can always be written with the value it
// already has (raising or keeping needs no privilege).
func TestWriteProcFile(t *testing.T) {
	const path = "/proc/self/oom_score_adj"
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(path, string(cur)); err != nil {
		t.Fatalf("rewrite %s with its own value %q: %v", path, cur, err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("0123456789", 1000) // more than the buffers below hold
	for name, content := range map[string]string{"long": long, "short": "42 7\n", "empty": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		path    string
		buf     []byte
		want    string
		wantErr error
	}{
		{"a file longer than the buffer", filepath.Join(dir, "long"), make([]byte, 0, 16), long, nil},
		{"no buffer at all", filepath.Join(dir, "long"), nil, long, nil},
		{"a file that fits", filepath.Join(dir, "short"), make([]byte, 3, 512), "42 7\n", nil}, // what buf held before is not kept
		{"an empty file", filepath.Join(dir, "empty"), make([]byte, 0, 8), "", nil},
		{"missing file", filepath.Join(dir, "missing"), nil, "", unix.ENOENT},
		{"a folder", dir, nil, "", unix.EISDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.path, tt.buf)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read: %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(got) != tt.want {
				t.Fatalf("Read: %d bytes %.20q…, want %d bytes %.20q…", len(got), got, len(tt.want), tt.want)
			}
		})
	}
}

// A file of /proc, which says no size, is read whole: the process's own
// stat starts with its pid.
func TestReadProcFile(t *testing.T) {
	got, err := Read("/proc/self/stat", make([]byte, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(os.Getpid()) + " ("; !strings.HasPrefix(string(got), want) {
		t.Fatalf("/proc/self/stat reads %q, want it to start with %q", got, want)
	}
	if !strings.HasSuffix(string(got), "\n") {
		t.Fatalf("/proc/self/stat reads %q: cut before its end", got)
	}
}
