package procfile

import (
	"errors"
	"os"
	"path/filepath"
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
