package filesystem

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMkdirAllRefusesTooLongBeforeCreating: a path the kernel would refuse
// leaves nothing behind, where os.MkdirAll creates every parent that fits.
func TestMkdirAllRefusesTooLongBeforeCreating(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name string
		dir  string
		ok   bool
	}{
		{"normal", filepath.Join(root, "a", "b", "c"), true},
		{"longest name", filepath.Join(root, "n", strings.Repeat("x", maxNameLen)), true},
		{"name too long", filepath.Join(root, "m", "sub", strings.Repeat("x", maxNameLen+1)), false},
		{"path too long", filepath.Join(root, "p", strings.Repeat("d/", maxPathLen/2)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mkdirAll(tt.dir)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if fi, err := os.Stat(tt.dir); err != nil || !fi.IsDir() {
					t.Fatalf("%s not created: %v", tt.dir, err)
				}
				return
			}
			if !errors.Is(err, syscall.ENAMETOOLONG) {
				t.Fatalf("mkdirAll: %v, want ENAMETOOLONG", err)
			}
			// The first folder under root the path names was not created.
			first := strings.SplitN(strings.TrimPrefix(tt.dir, root+"/"), "/", 2)[0]
			if _, err := os.Stat(filepath.Join(root, first)); !os.IsNotExist(err) {
				t.Fatalf("%s was created before the refusal: %v", first, err)
			}
		})
	}
}
