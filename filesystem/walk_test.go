package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// makeSearchTree creates files (content) and folders (names ending in "/")
// under a new temporary folder and returns it.
func makeSearchTree(t testing.TB, entries map[string]string) string {
	t.Helper()
	root := t.TempDir()
	testsupport.WriteTree(t, root, entries)
	return root
}

// newSearchFS is an FS whose working directory is dir.
func newSearchFS(t testing.TB, dir string) *FS {
	t.Helper()
	f, err := New(Config{WorkingDir: dir, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func walkNames(t *testing.T, root string, opts WalkOptions) []string {
	t.Helper()
	var names []string
	err := walkTree(context.Background(), root, opts, func(e walkEntry) error {
		name := e.rel
		if e.isDir() {
			name += "/"
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return names
}

func TestWalkTreePruning(t *testing.T) {
	root := makeSearchTree(t, map[string]string{
		"a.txt":                 "",
		"src/main.go":           "",
		"src/.env":              "",
		".git/config":           "",
		".hidden/x.txt":         "",
		"node_modules/m/i.js":   "",
		"src/vendor/v.go":       "",
		"src/build.go":          "", // a file named like an excluded folder stays
		"docs/node_modules.txt": "",
	})
	tests := []struct {
		name string
		opts WalkOptions
		want []string
	}{
		{"defaults skip hidden names and heavy folders", WalkOptions{},
			[]string{"a.txt", "docs/", "docs/node_modules.txt", "src/", "src/build.go", "src/main.go"}},
		{"hidden included, default folders still skipped", WalkOptions{IncludeHidden: true},
			[]string{".hidden/", ".hidden/x.txt", "a.txt", "docs/", "docs/node_modules.txt", "src/", "src/.env", "src/build.go", "src/main.go"}},
		{"an empty list skips no folder", WalkOptions{ExcludeDirs: []string{}},
			[]string{"a.txt", "docs/", "docs/node_modules.txt", "node_modules/", "node_modules/m/", "node_modules/m/i.js", "src/", "src/build.go", "src/main.go", "src/vendor/", "src/vendor/v.go"}},
		{"an explicit list replaces the defaults", WalkOptions{ExcludeDirs: []string{"src"}, IncludeHidden: true},
			[]string{".git/", ".git/config", ".hidden/", ".hidden/x.txt", "a.txt", "docs/", "docs/node_modules.txt", "node_modules/", "node_modules/m/", "node_modules/m/i.js"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := walkNames(t, root, tc.opts); !slices.Equal(got, tc.want) {
				t.Errorf("walk = %q\nwant   %q", got, tc.want)
			}
		})
	}
}

func TestWalkTreeRootIsNeverPruned(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"node_modules/.cache/x": "", "node_modules/pkg/index.js": ""})
	got := walkNames(t, filepath.Join(root, "node_modules"), WalkOptions{})
	if want := []string{"pkg/", "pkg/index.js"}; !slices.Equal(got, want) {
		t.Errorf("walk of an excluded folder given as root = %q, want %q", got, want)
	}
	got = walkNames(t, filepath.Join(root, "node_modules", ".cache"), WalkOptions{})
	if want := []string{"x"}; !slices.Equal(got, want) {
		t.Errorf("walk of a hidden root = %q, want %q", got, want)
	}
}

func TestWalkTreeDoesNotFollowSymlinkedFolders(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"a/f.txt": ""})
	outside := makeSearchTree(t, map[string]string{"secret.txt": ""})
	// A loop back to the root and a link out of the tree: both are listed,
	// neither is entered.
	if err := os.Symlink("..", filepath.Join(root, "a", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	got := walkNames(t, root, WalkOptions{})
	if want := []string{"a/", "a/f.txt", "a/loop", "out"}; !slices.Equal(got, want) {
		t.Errorf("walk = %q, want %q", got, want)
	}
	// A symlinked root is entered: the client named it.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	if got := walkNames(t, link, WalkOptions{}); len(got) != 4 {
		t.Errorf("walk through a symlinked root = %q, want the 4 entries", got)
	}
}

func TestWalkTreeSkipsUnreadableFolders(t *testing.T) {
	// Injected failure: the tests may run as root, which reads any folder.
	root := makeSearchTree(t, map[string]string{"a/x": "", "b/y": "", "c": ""})
	var names []string
	w := treeWalker{
		exclude: excludeSet(nil),
		visit:   func(e walkEntry) error { names = append(names, e.rel); return nil },
		readDir: func(p string) ([]os.DirEntry, error) {
			if filepath.Base(p) == "a" {
				return nil, fs.ErrPermission
			}
			return os.ReadDir(p)
		},
	}
	if err := w.walk(context.Background(), root); err != nil {
		t.Fatalf("walk: %v", err)
	}
	if want := []string{"a", "b", "b/y", "c"}; !slices.Equal(names, want) {
		t.Errorf("walk = %q, want %q", names, want)
	}
	// The root itself unreadable is an error.
	w.readDir = func(string) ([]os.DirEntry, error) { return nil, fs.ErrPermission }
	if err := w.walk(context.Background(), root); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("unreadable root: error %v, want permission denied", err)
	}
}

func TestWalkTreeSkipsKernelFoldersFromSlash(t *testing.T) {
	// A fake "/": the walk must not enter /proc, /sys or /dev from there,
	// but does when it starts inside one.
	fake := makeSearchTree(t, map[string]string{"proc/cpuinfo": "", "sys/x": "", "dev/null": "", "home/u/f": ""})
	var names []string
	w := treeWalker{
		exclude: excludeSet(nil),
		visit:   func(e walkEntry) error { names = append(names, e.rel); return nil },
		readDir: func(p string) ([]os.DirEntry, error) { return os.ReadDir(filepath.Join(fake, p)) },
	}
	if err := w.walk(context.Background(), "/"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"home", "home/u", "home/u/f"}; !slices.Equal(names, want) {
		t.Errorf("walk from / = %q, want %q", names, want)
	}
	names = nil
	if err := w.walk(context.Background(), "/proc"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"cpuinfo"}; !slices.Equal(names, want) {
		t.Errorf("walk from /proc = %q, want %q", names, want)
	}
}

func TestWalkTreeRootErrors(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"f.txt": ""})
	visit := func(walkEntry) error { return nil }
	if err := walkTree(context.Background(), filepath.Join(root, "missing"), WalkOptions{}, visit); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v, want not exist", err)
	}
	if err := walkTree(context.Background(), filepath.Join(root, "f.txt"), WalkOptions{}, visit); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("file root: %v, want ErrInvalidSearch", err)
	}
}

func TestWalkTreeStops(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"a/1": "", "a/2": "", "b/3": ""})
	n := 0
	err := walkTree(context.Background(), root, WalkOptions{}, func(walkEntry) error {
		n++
		if n == 2 {
			return errStopWalk
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Errorf("errStopWalk: err %v after %d entries, want nil after 2", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := walkTree(ctx, root, WalkOptions{}, func(walkEntry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v, want context.Canceled", err)
	}
}

func TestNamePatterns(t *testing.T) {
	tests := []struct {
		patterns []string
		rel      string
		want     bool
	}{
		{nil, "any/thing", true},
		{[]string{" ", ""}, "any/thing", true},
		{[]string{"*.go"}, "a/b/main.go", true},
		{[]string{"*.go"}, "a/b/main.js", false},
		{[]string{"*.js", " *.go "}, "main.go", true},
		{[]string{"main.*"}, "src/main.rs", true},
		{[]string{"src/*.go"}, "src/x.go", true},
		{[]string{"src/*.go"}, "lib/src/x.go", false},
		{[]string{"[ab].txt"}, "b.txt", true},
		{[]string{"Makefile"}, "sub/Makefile", true},
		{[]string{"Makefile"}, "sub/makefile", false},
	}
	for _, tc := range tests {
		ps, err := parseNamePatterns(tc.patterns)
		if err != nil {
			t.Fatalf("parse %q: %v", tc.patterns, err)
		}
		if got := ps.match(tc.rel); got != tc.want {
			t.Errorf("%q match %q = %v, want %v", tc.patterns, tc.rel, got, tc.want)
		}
	}
	if _, err := parseNamePatterns([]string{"*.go", "[a"}); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("bad pattern: %v, want ErrInvalidSearch", err)
	}
	many := make([]string, maxNamePatterns+1)
	for i := range many {
		many[i] = fmt.Sprintf("*.%d", i)
	}
	if _, err := parseNamePatterns(many[:maxNamePatterns]); err != nil {
		t.Errorf("%d patterns: %v", maxNamePatterns, err)
	}
	if _, err := parseNamePatterns(many); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("%d patterns: %v, want ErrInvalidSearch", len(many), err)
	}
}

// TestNamePatternFastPathsAgreeWithMatch: the shortcuts for "*.ext" and
// plain names give what path.Match gives.
func TestNamePatternFastPathsAgreeWithMatch(t *testing.T) {
	patterns := []string{"*", "*.go", "*go", "*.tar.gz", "main.go", "Makefile", ".env", "*.", "*x*", "?.go", "[a-c]*", `\*.go`, `*\.go`}
	names := []string{"", "go", ".go", "main.go", "x.go", "amain.go", "Makefile", "makefile", ".env", "a.tar.gz", "tar.gz", "*.go", "a.", "xx", "b", `\`, "a\\"}
	for _, p := range patterns {
		ps, err := parseNamePatterns([]string{p})
		if err != nil {
			t.Fatalf("parse %q: %v", p, err)
		}
		for _, name := range names {
			want, _ := path.Match(p, name)
			if got := ps.match("dir/" + name); got != want {
				t.Errorf("pattern %q on %q: %v, path.Match says %v", p, name, got, want)
			}
		}
	}
}

func TestClampResults(t *testing.T) {
	for _, tc := range []struct{ req, limit, want int }{{0, 50, 50}, {-3, 50, 50}, {10, 50, 10}, {51, 50, 50}, {50, 50, 50}} {
		if got := clampResults(tc.req, tc.limit); got != tc.want {
			t.Errorf("clampResults(%d, %d) = %d, want %d", tc.req, tc.limit, got, tc.want)
		}
	}
}
