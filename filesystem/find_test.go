package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFind(t *testing.T) {
	root := makeSearchTree(t, map[string]string{
		"main.go":             "",
		"README.md":           "",
		"cmd/app/app.go":      "",
		"cmd/app/app_test.go": "",
		"web/index.js":        "",
		"web/empty/":          "",
		".github/ci.yml":      "",
		"node_modules/x/x.js": "",
	})
	if err := os.Symlink("cmd", filepath.Join(root, "cmdlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("main.go", filepath.Join(root, "mainlink.go")); err != nil {
		t.Fatal(err)
	}
	f := newSearchFS(t, root)
	m := func(pairs ...string) []FindMatch {
		var out []FindMatch
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, FindMatch{Path: pairs[i], Type: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name      string
		root      string
		opts      FindOptions
		want      []FindMatch
		truncated bool
	}{
		{"everything: the root as \".\", then walk order, symlinks typed by target and not entered", root, FindOptions{},
			m(".", "directory", "README.md", "file", "cmd", "directory", "cmd/app", "directory", "cmd/app/app.go", "file",
				"cmd/app/app_test.go", "file", "cmdlink", "directory", "main.go", "file", "mainlink.go", "file",
				"web", "directory", "web/empty", "directory", "web/index.js", "file"), false},
		{"files by pattern", root, FindOptions{Type: TypeFile, Patterns: []string{"*.go"}},
			m("cmd/app/app.go", "file", "cmd/app/app_test.go", "file", "main.go", "file", "mainlink.go", "file"), false},
		{"folders only, the root included as find(1) does", root, FindOptions{Type: TypeDirectory},
			m(".", "directory", "cmd", "directory", "cmd/app", "directory", "cmdlink", "directory", "web", "directory", "web/empty", "directory"), false},
		{"the root left out on request", root, FindOptions{Type: TypeDirectory, ExcludeRoot: true},
			m("cmd", "directory", "cmd/app", "directory", "cmdlink", "directory", "web", "directory", "web/empty", "directory"), false},
		{"a pattern sees the root as \".\"", root, FindOptions{Type: TypeDirectory, Patterns: []string{"*"}, MaxResults: 1},
			m(".", "directory"), true},
		{"several patterns", root, FindOptions{Patterns: []string{"*.js", "*.md"}},
			m("README.md", "file", "web/index.js", "file"), false},
		{"maxResults stops the walk and says more existed", root, FindOptions{Type: TypeFile, MaxResults: 2},
			m("README.md", "file", "cmd/app/app.go", "file"), true},
		{"maxResults exactly reached is complete", root, FindOptions{Type: TypeFile, Patterns: []string{"*.js", "*.md"}, MaxResults: 2},
			m("README.md", "file", "web/index.js", "file"), false},
		{"hidden and excluded folders on request", root, FindOptions{Patterns: []string{"*.yml", "*.js"}, WalkOptions: WalkOptions{IncludeHidden: true, ExcludeDirs: []string{}}},
			m(".github/ci.yml", "file", "node_modules/x/x.js", "file", "web/index.js", "file"), false},
		{"relative root from the working directory", "cmd", FindOptions{Type: TypeFile},
			m("app/app.go", "file", "app/app_test.go", "file"), false},
		{"no match is an empty list", root, FindOptions{Patterns: []string{"*.rs"}}, m(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, truncated, err := f.Find(context.Background(), tc.root, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(got, append([]FindMatch{}, tc.want...)) || truncated != tc.truncated {
				t.Errorf("Find =\n%v (truncated %v)\nwant\n%v (truncated %v)", got, truncated, tc.want, tc.truncated)
			}
		})
	}
}

func TestFindErrors(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"f.txt": ""})
	f := newSearchFS(t, root)
	tests := []struct {
		name string
		root string
		opts FindOptions
		want error
	}{
		{"unknown type", root, FindOptions{Type: "symlink"}, ErrInvalidSearch},
		{"bad pattern", root, FindOptions{Patterns: []string{"[x"}}, ErrInvalidSearch},
		{"missing root", filepath.Join(root, "nope"), FindOptions{}, fs.ErrNotExist},
		{"file root", filepath.Join(root, "f.txt"), FindOptions{}, ErrInvalidSearch},
	}
	for _, tc := range tests {
		if _, _, err := f.Find(context.Background(), tc.root, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestFindHardCap: Find, which holds its matches, stops at
// MaxFindResults whatever it is asked, and says the answer is cut.
func TestFindHardCap(t *testing.T) {
	entries := map[string]string{}
	for i := range MaxFindResults + 5 {
		entries[fmt.Sprintf("d%d/", i)] = ""
	}
	root := makeSearchTree(t, entries)
	f := newSearchFS(t, root)
	for _, max := range []int{0, MaxFindResults + 100} {
		got, truncated, err := f.Find(context.Background(), root, FindOptions{MaxResults: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != MaxFindResults || !truncated {
			t.Errorf("MaxResults %d: %d matches (truncated %v), want the hard cap %d, truncated", max, len(got), truncated, MaxFindResults)
		}
	}

	// FindEach keeps nothing, so 0 means every match.
	n := 0
	truncated, err := f.FindEach(context.Background(), root, FindOptions{Type: TypeDirectory, ExcludeRoot: true}, func(FindMatch) error {
		n++
		return nil
	})
	if err != nil || n != MaxFindResults+5 || truncated {
		t.Errorf("FindEach with no bound: %d matches (truncated %v, %v), want all %d", n, truncated, err, MaxFindResults+5)
	}
}

// TestFindEachEmitError: an error from emit ends the walk at once and is
// returned as is.
func TestFindEachEmitError(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"a/": "", "b/": "", "c/": ""})
	f := newSearchFS(t, root)
	stop := errors.New("client gone")
	var seen []string
	_, err := f.FindEach(context.Background(), root, FindOptions{}, func(m FindMatch) error {
		seen = append(seen, m.Path)
		if m.Path == "a" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{".", "a"}) {
		t.Errorf("FindEach after an emit error: %v, saw %q; want the error after . and a", err, seen)
	}
}
