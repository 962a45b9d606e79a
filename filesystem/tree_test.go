package filesystem

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// treePaths flattens a tree into sorted relative paths, folders with a
// trailing slash.
func treePaths(root string, d Directory) []string {
	var out []string
	var walk func(Directory)
	walk = func(d Directory) {
		for _, f := range d.Files {
			rel, _ := filepath.Rel(root, f.Path)
			out = append(out, rel)
		}
		for _, s := range d.Subdirectories {
			rel, _ := filepath.Rel(root, s.Path)
			out = append(out, rel+"/")
			walk(s)
		}
	}
	walk(d)
	sort.Strings(out)
	return out
}

func TestTreeNested(t *testing.T) {
	f, wd := newFilesFS(t)
	filesWrite(t, filepath.Join(wd, "a.txt"), "a")
	filesWrite(t, filepath.Join(wd, "src/main.go"), "package main")
	filesWrite(t, filepath.Join(wd, "src/pkg/x.go"), "package pkg")
	if err := os.Mkdir(filepath.Join(wd, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A link back to the root: followed, it would loop forever.
	if err := os.Symlink(wd, filepath.Join(wd, "src/loop")); err != nil {
		t.Fatal(err)
	}
	tree, err := f.Tree("", MaxTreeEntries)
	if err != nil {
		t.Fatal(err)
	}
	want := "a.txt empty/ src/ src/loop/ src/main.go src/pkg/ src/pkg/x.go"
	if got := strings.Join(treePaths(wd, tree), " "); got != want {
		t.Errorf("tree = %s\nwant   %s", got, want)
	}

	if _, err := f.Tree("", 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a tree over the entry cap = %v, want ErrTooLarge", err)
	}
	if _, err := f.Tree("a.txt", MaxTreeEntries); !errors.Is(err, ErrNotDirectory) {
		t.Errorf("the tree of a file = %v, want ErrNotDirectory", err)
	}
	if _, err := f.Tree("missing", MaxTreeEntries); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the tree of a missing folder = %v, want fs.ErrNotExist", err)
	}
}

func TestWriteTreeRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"dot-dot escape", map[string]string{"ok.txt": "", "../escape.txt": "x"}},
		{"escape after a folder", map[string]string{"a/../../escape.txt": "x"}},
		{"absolute key", map[string]string{"/etc/evil": "x"}},
		{"empty key", map[string]string{"": "x"}},
		{"the root itself", map[string]string{".": "x"}},
		{"NUL byte", map[string]string{"a\x00b": "x"}},
		{"a file another key needs as a folder", map[string]string{"a": "file", "a/b.txt": "x"}},
		{"two keys for one path", map[string]string{"a/b.txt": "1", "a//b.txt": "2"}},
		{"a folder key with content", map[string]string{"d/": "content"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, wd := newFilesFS(t)
			_, err := f.WriteTree("root", tc.files)
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("WriteTree = %v, want ErrInvalidPath", err)
			}
			// Checked before anything is written: not even the root exists.
			if _, err := os.Stat(filepath.Join(wd, "root")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a rejected tree created its root: %v", err)
			}
			if _, err := os.Stat(filepath.Join(wd, "escape.txt")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a rejected tree wrote outside its root")
			}
		})
	}
}

func TestWriteTreeWritesAndAnswersWhatItWrote(t *testing.T) {
	f, wd := newFilesFS(t)
	root := filepath.Join(wd, "proj")
	filesWrite(t, filepath.Join(root, "existing.txt"), "untouched")
	filesWrite(t, filepath.Join(root, "src/old.go"), "old")

	tree, err := f.WriteTree("proj", map[string]string{
		"README.md":        "# hi",
		"src/main.go":      "package main",
		"src/old.go":       "new",
		"src/pkg/deep.txt": "deep",
		"assets/":          "",
		"with space/ü.txt": "unicode",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "README.md assets/ src/ src/main.go src/old.go src/pkg/ src/pkg/deep.txt with space/ with space/ü.txt"
	if got := strings.Join(treePaths(root, tree), " "); got != want {
		t.Errorf("answered tree = %s\nwant             %s", got, want)
	}
	if tree.Path != root {
		t.Errorf("tree path %q, want %q", tree.Path, root)
	}
	for rel, content := range map[string]string{
		"README.md": "# hi", "src/main.go": "package main", "src/old.go": "new",
		"src/pkg/deep.txt": "deep", "with space/ü.txt": "unicode", "existing.txt": "untouched",
	} {
		if got := filesRead(t, filepath.Join(root, rel)); got != content {
			t.Errorf("%s = %q, want %q", rel, got, content)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "assets")); err != nil || !fi.IsDir() {
		t.Errorf("folder key did not create a folder: %v", err)
	}
	filesNoTemp(t, filepath.Join(root, "src"))

	filesWrite(t, filepath.Join(wd, "plain"), "x")
	if _, err := f.WriteTree("plain", map[string]string{"a": "b"}); !errors.Is(err, ErrNotDirectory) {
		t.Errorf("a tree rooted at a file = %v, want ErrNotDirectory", err)
	}
}
