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
		name string
		root string
		opts FindOptions
		want []FindMatch
	}{
		{"everything, walk order, symlinks typed by target and not entered", root, FindOptions{},
			m("README.md", "file", "cmd", "directory", "cmd/app", "directory", "cmd/app/app.go", "file",
				"cmd/app/app_test.go", "file", "cmdlink", "directory", "main.go", "file", "mainlink.go", "file",
				"web", "directory", "web/empty", "directory", "web/index.js", "file")},
		{"files by pattern", root, FindOptions{Type: TypeFile, Patterns: []string{"*.go"}},
			m("cmd/app/app.go", "file", "cmd/app/app_test.go", "file", "main.go", "file", "mainlink.go", "file")},
		{"folders only", root, FindOptions{Type: TypeDirectory},
			m("cmd", "directory", "cmd/app", "directory", "cmdlink", "directory", "web", "directory", "web/empty", "directory")},
		{"several patterns", root, FindOptions{Patterns: []string{"*.js", "*.md"}},
			m("README.md", "file", "web/index.js", "file")},
		{"maxResults stops the walk", root, FindOptions{Type: TypeFile, MaxResults: 2},
			m("README.md", "file", "cmd/app/app.go", "file")},
		{"hidden and excluded folders on request", root, FindOptions{Patterns: []string{"*.yml", "*.js"}, WalkOptions: WalkOptions{IncludeHidden: true, ExcludeDirs: []string{}}},
			m(".github/ci.yml", "file", "node_modules/x/x.js", "file", "web/index.js", "file")},
		{"relative root from the working directory", "cmd", FindOptions{Type: TypeFile},
			m("app/app.go", "file", "app/app_test.go", "file")},
		{"no match is an empty list", root, FindOptions{Patterns: []string{"*.rs"}}, m()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Find(context.Background(), tc.root, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(got, append([]FindMatch{}, tc.want...)) {
				t.Errorf("Find =\n%v\nwant\n%v", got, tc.want)
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
		if _, err := f.Find(context.Background(), tc.root, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestFindHardCap(t *testing.T) {
	entries := map[string]string{}
	for i := range MaxFindResults + 5 {
		entries[fmt.Sprintf("d%d/", i)] = ""
	}
	root := makeSearchTree(t, entries)
	f := newSearchFS(t, root)
	for _, max := range []int{0, MaxFindResults + 100} {
		got, err := f.Find(context.Background(), root, FindOptions{MaxResults: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != MaxFindResults {
			t.Errorf("MaxResults %d: %d matches, want the hard cap %d", max, len(got), MaxFindResults)
		}
	}
}
