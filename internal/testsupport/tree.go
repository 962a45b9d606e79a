package testsupport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteTree creates, under dir, the files of entries (slash-separated name
// to content) and the folders (names ending in "/"), with their parents.
func WriteTree(t testing.TB, dir string, entries map[string]string) {
	t.Helper()
	for name, content := range entries {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
