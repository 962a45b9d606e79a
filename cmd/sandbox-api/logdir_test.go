package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveLogDir(t *testing.T) {
	root := t.TempDir()
	// A path under a regular file can never be created, even by root.
	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	unusable := filepath.Join(blocker, "logs")
	usable := func(name string) string { return filepath.Join(root, name, "nested") }

	tests := []struct {
		name         string
		explicit     string
		preferred    string
		fallback     string
		wantDir      string
		wantFellBack bool
		wantErr      bool
	}{
		{name: "explicit wins", explicit: usable("explicit"), preferred: usable("preferred"), fallback: usable("fallback"), wantDir: usable("explicit")},
		{name: "explicit unusable fails", explicit: unusable, preferred: usable("p2"), fallback: usable("f2"), wantErr: true},
		{name: "preferred when usable", preferred: usable("p3"), fallback: usable("f3"), wantDir: usable("p3")},
		{name: "fallback when preferred unusable", preferred: unusable, fallback: usable("f4"), wantDir: usable("f4"), wantFellBack: true},
		{name: "both unusable fails", preferred: unusable, fallback: unusable, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, fellBack, err := resolveLogDir(tt.explicit, tt.preferred, tt.fallback)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolveLogDir = %q, want an error", dir)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveLogDir: %v", err)
			}
			if dir != tt.wantDir || fellBack != tt.wantFellBack {
				t.Errorf("resolveLogDir = (%q, %v), want (%q, %v)", dir, fellBack, tt.wantDir, tt.wantFellBack)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("read %s: %v", dir, err)
			}
			if len(entries) != 0 {
				t.Errorf("probe file left behind in %s: %v", dir, entries)
			}
		})
	}
}
