package filesystem

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFuzzyScorerMatches(t *testing.T) {
	tests := []struct {
		query, candidate string
		want             bool
	}{
		{"main", "src/main.go", true},
		{"MAIN", "src/main.go", true},
		{"main", "src/MAIN.go", true},
		{"smg", "src/main.go", true},
		{"gm", "src/main.go", false}, // order matters
		{"mainx", "src/main.go", false},
		{"été", "docs/Été/x.md", true},
		{"a/b", "a/b", true},
	}
	for _, tc := range tests {
		_, ok := newFuzzyScorer(tc.query).score(tc.candidate)
		if ok != tc.want {
			t.Errorf("score(%q, %q) matched = %v, want %v", tc.query, tc.candidate, ok, tc.want)
		}
	}
}

func TestFuzzyScorerRanks(t *testing.T) {
	tests := []struct {
		why, query, better, worse string
	}{
		{"start of the name beats the middle of a word", "main", "src/main.go", "src/domain.go"},
		{"consecutive beats scattered", "abc", "x/abc.txt", "x/a_b_c.txt"},
		{"after a separator beats inside a word", "fb", "foo_bar.go", "fab.go"},
		{"camelCase hump beats inside a word", "fb", "FooBar.go", "Foobar.go"},
		{"a match in the name beats one in a folder", "util", "src/util.go", "util/x.go"},
		{"fewer gaps win", "sgo", "s.go", "s_x_y_z.go"},
	}
	for _, tc := range tests {
		s := newFuzzyScorer(tc.query)
		b, ok1 := s.score(tc.better)
		w, ok2 := s.score(tc.worse)
		if !ok1 || !ok2 || b <= w {
			t.Errorf("%s: %q scores %q %d (%v), %q %d (%v); want the first higher", tc.why, tc.query, tc.better, b, ok1, tc.worse, w, ok2)
		}
	}
}

func TestFuzzyScorerReusesScratch(t *testing.T) {
	// Scores must not depend on what the scorer saw before.
	s := newFuzzyScorer("ab")
	first, _ := s.score("a/b")
	s.score(strings.Repeat("ab/", 200))
	s.score("x")
	if again, _ := s.score("a/b"); again != first {
		t.Errorf("score changed after other candidates: %d then %d", first, again)
	}
}

func TestFuzzyRootAndQuery(t *testing.T) {
	tests := []struct {
		root, query, wantRoot, wantQuery string
		wantErr                          bool
	}{
		{"/work", "main", "/work", "main", false},
		{"/work/src/main", "", "/work/src", "main", false},
		{"/main", "", "/", "main", false},
		{"/work", " ma in ", "/work", "main", false},
		{"/", "", "", "", true},
		{"/work", "   ", "", "", true},
		{"/work", strings.Repeat("x", maxFuzzyQuery+1), "", "", true},
	}
	for _, tc := range tests {
		root, query, err := fuzzyRootAndQuery(tc.root, tc.query)
		if (err != nil) != tc.wantErr || root != tc.wantRoot || query != tc.wantQuery {
			t.Errorf("fuzzyRootAndQuery(%q, %q) = %q, %q, %v; want %q, %q, error %v", tc.root, tc.query, root, query, err, tc.wantRoot, tc.wantQuery, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalidSearch) {
			t.Errorf("fuzzyRootAndQuery(%q, %q): error %v is not ErrInvalidSearch", tc.root, tc.query, err)
		}
	}
}

func TestFuzzySearch(t *testing.T) {
	root := makeSearchTree(t, map[string]string{
		"src/main.go":             "",
		"src/domain.go":           "",
		"cmd/main/run.go":         "",
		"cmd/main/main.go":        "",
		"docs/maintenance.md":     "",
		".git/main":               "",
		"node_modules/main/x.js":  "",
		"src/nothing_relevant.rs": "",
	})
	f := newSearchFS(t, root)
	got, truncated, err := f.FuzzySearch(context.Background(), root, FuzzyOptions{Query: "main"})
	if err != nil {
		t.Fatal(err)
	}
	paths := func(ms []FuzzyMatch) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Path)
		}
		return out
	}
	if truncated {
		t.Errorf("a complete answer said truncated")
	}
	if len(got) == 0 || got[0].Path != "cmd/main" || got[0].Type != TypeDirectory {
		t.Errorf("best match = %v, want the folder cmd/main first (a whole element, shortest)", got)
	}
	for _, p := range paths(got) {
		if strings.HasPrefix(p, ".git") || strings.HasPrefix(p, "node_modules") || p == "src/nothing_relevant.rs" {
			t.Errorf("unexpected match %q in %q", p, paths(got))
		}
	}
	for i := 1; i < len(got); i++ {
		if fuzzyBetter(got[i], got[i-1]) {
			t.Errorf("not best first: %v before %v", got[i-1], got[i])
		}
	}
	if i, j := slices.Index(paths(got), "src/main.go"), slices.Index(paths(got), "src/domain.go"); i < 0 || j < 0 || i > j {
		t.Errorf("src/main.go should rank above src/domain.go: %q", paths(got))
	}

	// A bounded search keeps exactly the best of the unbounded one, and
	// says so when it left matches out.
	for _, n := range []int{1, 2, 3, len(got), len(got) + 1} {
		top, truncated, err := f.FuzzySearch(context.Background(), root, FuzzyOptions{Query: "main", MaxResults: n})
		if err != nil {
			t.Fatal(err)
		}
		if want := got[:min(n, len(got))]; !slices.Equal(top, want) {
			t.Errorf("MaxResults %d = %v, want %v", n, top, want)
		}
		if want := n < len(got); truncated != want {
			t.Errorf("MaxResults %d of %d matches: truncated %v, want %v", n, len(got), truncated, want)
		}
	}

	// Patterns filter what is scored.
	goOnly, _, err := f.FuzzySearch(context.Background(), root, FuzzyOptions{Query: "main", Patterns: []string{"*.go"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range goOnly {
		if filepath.Ext(m.Path) != ".go" {
			t.Errorf("pattern *.go let %q through", m.Path)
		}
	}

	// No query: the last element of the path is the query, its parent the root.
	viaPath, _, err := f.FuzzySearch(context.Background(), filepath.Join(root, "main"), FuzzyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(viaPath, got) {
		t.Errorf("query from the path = %v, want the same as query=main: %v", viaPath, got)
	}
}

func TestFuzzySearchTies(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"b/x.go": "", "a/x.go": "", "a/x.go.orig": ""})
	f := newSearchFS(t, root)
	got, _, err := f.FuzzySearch(context.Background(), root, FuzzyOptions{Query: "x.go"})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range got {
		paths = append(paths, m.Path)
	}
	// Same score: byte order; the longer path last.
	if want := []string{"a/x.go", "b/x.go", "a/x.go.orig"}; !slices.Equal(paths, want) {
		t.Errorf("order = %q, want %q (scores %v)", paths, want, got)
	}
}

func TestFuzzySearchErrors(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"f.txt": ""})
	f := newSearchFS(t, root)
	if _, _, err := f.FuzzySearch(context.Background(), "/", FuzzyOptions{}); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("no query at /: %v, want ErrInvalidSearch", err)
	}
	if _, _, err := f.FuzzySearch(context.Background(), filepath.Join(root, "missing"), FuzzyOptions{Query: "x"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v, want not exist", err)
	}
	if _, _, err := f.FuzzySearch(context.Background(), root, FuzzyOptions{Query: "x", Patterns: []string{"["}}); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("bad pattern: %v, want ErrInvalidSearch", err)
	}
}
