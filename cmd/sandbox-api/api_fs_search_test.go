package main

// Black-box tests of /filesystem-find, /filesystem-search and
// /filesystem-content-search through the real daemon.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

type findResponse struct {
	Matches []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	} `json:"matches"`
	Total int `json:"total"`
}

func (r findResponse) list() []string {
	var out []string
	for _, m := range r.Matches {
		out = append(out, m.Path+":"+m.Type)
	}
	return out
}

type fuzzyResponse struct {
	Matches []struct {
		Path  string `json:"path"`
		Score int    `json:"score"`
		Type  string `json:"type"`
	} `json:"matches"`
	Total int `json:"total"`
}

func (r fuzzyResponse) paths() []string {
	var out []string
	for _, m := range r.Matches {
		out = append(out, m.Path)
	}
	return out
}

type contentMatch struct {
	Path    string  `json:"path"`
	Line    int     `json:"line"`
	Column  int     `json:"column"`
	Text    string  `json:"text"`
	Context *string `json:"context"`
}

type contentResponse struct {
	Matches []contentMatch `json:"matches"`
	Query   string         `json:"query"`
	Total   int            `json:"total"`
}

func (r contentResponse) lines() []string {
	var out []string
	for _, m := range r.Matches {
		out = append(out, fmt.Sprintf("%s:%d", m.Path, m.Line))
	}
	return out
}

// wantRawFields checks that a search answer has the contract's required
// top-level fields, with matches an array (never null).
func wantRawFields(t *testing.T, body []byte, fields ...string) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("decode %s: %v", testsupport.Truncate(body), err)
	}
	for _, f := range fields {
		if _, ok := raw[f]; !ok {
			t.Errorf("field %q missing: %s", f, testsupport.Truncate(body))
		}
	}
	if m := raw["matches"]; len(m) == 0 || m[0] != '[' {
		t.Errorf("matches is not an array: %s", testsupport.Truncate(body))
	}
}

// sdkPath is the path as the SDK's generated client sends it: one
// segment, slashes encoded.
func sdkPath(p string) string { return url.PathEscape(p) }

func TestFindAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "proj")
	testsupport.WriteTree(t, root, map[string]string{
		"main.go":             "",
		"cmd/app/app.go":      "",
		"cmd/app/README.md":   "",
		"web/index.js":        "",
		"web/empty/":          "",
		".env":                "",
		"node_modules/x/x.js": "",
		"dist/bundle.js":      "",
	})

	var all findResponse
	resp, body := d.do(http.MethodGet, "/filesystem-find/"+sdkPath(root)+"?maxResults=0", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("find: %d %s", resp.StatusCode, body)
	}
	wantRawFields(t, body, "matches", "total")
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	want := []string{".:directory", "cmd:directory", "cmd/app:directory", "cmd/app/README.md:file", "cmd/app/app.go:file",
		"main.go:file", "web:directory", "web/empty:directory", "web/index.js:file"}
	if !slices.Equal(all.list(), want) || all.Total != len(want) {
		t.Errorf("find all = %q (total %d), want %q", all.list(), all.Total, want)
	}

	tests := []struct {
		name, path string
		want       []string
	}{
		{"double-slash raw path, type and patterns", "/filesystem-find/" + root + "?type=file&patterns=*.go,*.js",
			[]string{"cmd/app/app.go:file", "main.go:file", "web/index.js:file"}},
		{"relative path from the working directory", "/filesystem-find/proj/cmd?type=file",
			[]string{"app/README.md:file", "app/app.go:file"}},
		{"bare prefix is the working directory", "/filesystem-find?type=directory&patterns=app",
			[]string{"proj/cmd/app:directory"}},
		{"folders only, the root as . like find(1)", "/filesystem-find/" + sdkPath(root) + "?type=directory",
			[]string{".:directory", "cmd:directory", "cmd/app:directory", "web:directory", "web/empty:directory"}},
		{"default maxResults is 20, an explicit one cuts", "/filesystem-find/" + sdkPath(root) + "?maxResults=2",
			[]string{".:directory", "cmd:directory"}},
		{"excludeDirs replaces the default list", "/filesystem-find/" + sdkPath(root) + "?patterns=*.js&excludeDirs=web",
			[]string{"dist/bundle.js:file", "node_modules/x/x.js:file"}},
		{"an empty excludeDirs skips nothing", "/filesystem-find/" + sdkPath(root) + "?patterns=*.js&excludeDirs=",
			[]string{"dist/bundle.js:file", "node_modules/x/x.js:file", "web/index.js:file"}},
		{"excludeHidden=false shows dotfiles", "/filesystem-find/" + sdkPath(root) + "?type=file&patterns=.*&excludeHidden=false",
			[]string{".env:file"}},
		{"no match is an empty list", "/filesystem-find/" + sdkPath(root) + "?patterns=*.rs", nil},
	}
	for _, tc := range tests {
		var got findResponse
		resp, body := d.do(http.MethodGet, tc.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s: %d %s", tc.name, tc.path, resp.StatusCode, body)
			continue
		}
		wantRawFields(t, body, "matches", "total")
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.list(), tc.want) || got.Total != len(tc.want) {
			t.Errorf("%s: %s = %q (total %d), want %q", tc.name, tc.path, got.list(), got.Total, tc.want)
		}
	}
}

func TestSearchAPIErrors(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "r")
	testsupport.WriteTree(t, root, map[string]string{"f.txt": "x\n"})
	missing := sdkPath(filepath.Join(root, "missing"))
	file := sdkPath(filepath.Join(root, "f.txt"))
	tests := []struct {
		path   string
		status int
	}{
		{"/filesystem-find/" + sdkPath(root) + "?type=symlink", http.StatusBadRequest},
		{"/filesystem-find/" + sdkPath(root) + "?maxResults=-1", http.StatusBadRequest},
		{"/filesystem-find/" + sdkPath(root) + "?maxResults=many", http.StatusBadRequest},
		{"/filesystem-find/" + sdkPath(root) + "?excludeHidden=maybe", http.StatusBadRequest},
		{"/filesystem-find/" + sdkPath(root) + "?patterns=%5Bx", http.StatusBadRequest},
		{"/filesystem-find/" + missing, http.StatusNotFound},
		{"/filesystem-find/" + file, http.StatusBadRequest},
		{"/filesystem-find/" + sdkPath(root+"/f.txt/below"), http.StatusNotFound},
		{"/filesystem-find/%2Ftmp%00x", http.StatusBadRequest},
		{"/filesystem-search/%2F", http.StatusBadRequest}, // no query, no last element
		{"/filesystem-search/" + sdkPath(root) + "?query=x&maxResults=-5", http.StatusBadRequest},
		{"/filesystem-search/" + missing + "?query=x", http.StatusNotFound},
		{"/filesystem-content-search/" + sdkPath(root), http.StatusBadRequest}, // no query
		{"/filesystem-content-search/" + sdkPath(root) + "?query=", http.StatusBadRequest},
		{"/filesystem-content-search/" + sdkPath(root) + "?query=a%0Ab", http.StatusBadRequest},
		{"/filesystem-content-search/" + sdkPath(root) + "?query=x&caseSensitive=yes", http.StatusBadRequest},
		{"/filesystem-content-search/" + sdkPath(root) + "?query=x&contextLines=-1", http.StatusBadRequest},
		{"/filesystem-content-search/" + sdkPath(root) + "?query=x&filePattern=%5B", http.StatusBadRequest},
		{"/filesystem-content-search/" + missing + "?query=x", http.StatusNotFound},
		{"/filesystem-content-search/" + file + "?query=x", http.StatusBadRequest},
	}
	for _, tc := range tests {
		d.wantError(http.MethodGet, tc.path, nil, tc.status)
	}
	// Only GET is routed.
	resp, _ := d.do(http.MethodPost, "/filesystem-find/"+sdkPath(root), nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /filesystem-find: %d, want 405", resp.StatusCode)
	}
}

func TestFuzzySearchAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	// Names with spaces, "#", "?" and unicode must survive the path.
	root := filepath.Join(d.workDir, "my proj #1?é")
	testsupport.WriteTree(t, root, map[string]string{
		"src/main.go":          "",
		"src/domain.go":        "",
		"cmd/main/run.go":      "",
		"docs/maintenance.md":  "",
		"other.txt":            "",
		".cache/main":          "",
		"vendor/main/vendor.x": "",
	})
	var got fuzzyResponse
	resp, body := d.do(http.MethodGet, "/filesystem-search/"+sdkPath(root)+"?query=main&maxResults=50", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	wantRawFields(t, body, "matches", "total")
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) == 0 || got.Matches[0].Path != "cmd/main" || got.Matches[0].Type != "directory" || got.Total != len(got.Matches) {
		t.Fatalf("search = %+v, want cmd/main (directory) first", got)
	}
	for i := 1; i < len(got.Matches); i++ {
		if got.Matches[i].Score > got.Matches[i-1].Score {
			t.Errorf("not best first: %+v", got.Matches)
		}
	}
	paths := got.paths()
	if slices.Contains(paths, "other.txt") || slices.Contains(paths, ".cache/main") || slices.Contains(paths, "vendor/main") {
		t.Errorf("unexpected matches in %q", paths)
	}
	if i, j := slices.Index(paths, "src/main.go"), slices.Index(paths, "src/domain.go"); i < 0 || j < 0 || i > j {
		t.Errorf("src/main.go should come before src/domain.go: %q", paths)
	}

	// The SDK sends no query: the last element of the path is the query,
	// its parent the root.
	var viaPath fuzzyResponse
	d.doJSON(http.MethodGet, "/filesystem-search/"+sdkPath(root+"/main")+"?maxResults=50", nil, http.StatusOK, &viaPath)
	if !slices.Equal(viaPath.paths(), paths) {
		t.Errorf("query from the path = %q, want %q", viaPath.paths(), paths)
	}

	var limited fuzzyResponse
	d.doJSON(http.MethodGet, "/filesystem-search/"+sdkPath(root)+"?query=main&maxResults=2&patterns=*.go", nil, http.StatusOK, &limited)
	if want := []string{"src/main.go", "cmd/main/run.go"}; !slices.Equal(limited.paths(), want) {
		t.Errorf("maxResults=2 patterns=*.go: %q, want %q", limited.paths(), want)
	}

	var hidden fuzzyResponse
	d.doJSON(http.MethodGet, "/filesystem-search/"+sdkPath(root)+"?query=main&excludeHidden=false&excludeDirs=", nil, http.StatusOK, &hidden)
	if !slices.Contains(hidden.paths(), ".cache/main") || !slices.Contains(hidden.paths(), "vendor/main") {
		t.Errorf("excludeHidden=false&excludeDirs= should find .cache/main and vendor/main: %q", hidden.paths())
	}
}

func TestContentSearchAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "code")
	testsupport.WriteTree(t, root, map[string]string{
		"a.go":              "package a\n\n// TODO: fix\nfunc A() {}\n",
		"b/b.py":            "def b():\n    pass  # todo later\n",
		"b/notes.md":        "nothing\n",
		"img.bin":           "TODO\x00\x01\x02",
		"node_modules/m.js": "// TODO in deps\n",
		".secret/s.txt":     "TODO hidden\n",
		"utf.txt":           "héllo TODO wörld\n",
	})
	get := func(query string) (contentResponse, []byte) {
		t.Helper()
		resp, body := d.do(http.MethodGet, "/filesystem-content-search/"+sdkPath(root)+"?"+query, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("content search ?%s: %d %s", query, resp.StatusCode, body)
		}
		wantRawFields(t, body, "matches", "query", "total")
		var got contentResponse
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		return got, body
	}

	got, body := get("query=todo")
	if want := []string{"a.go:3", "b/b.py:2", "utf.txt:1"}; !slices.Equal(got.lines(), want) || got.Total != 3 || got.Query != "todo" {
		t.Errorf("default search = %q total %d query %q, want %q (case ignored; binary, hidden, node_modules skipped)", got.lines(), got.Total, got.Query, want)
	}
	if strings.Contains(string(body), `"context"`) {
		t.Errorf("context sent without contextLines: %s", body)
	}
	if m := got.Matches[0]; m.Column != 4 || m.Text != "// TODO: fix" {
		t.Errorf("a.go match = %+v, want column 4, text %q", m, "// TODO: fix")
	}
	if m := got.Matches[2]; m.Column != 7 || m.Text != "héllo TODO wörld" {
		t.Errorf("utf.txt match = %+v, want column 7 (characters)", m)
	}

	got, _ = get("query=TODO&caseSensitive=true")
	if want := []string{"a.go:3", "utf.txt:1"}; !slices.Equal(got.lines(), want) {
		t.Errorf("caseSensitive=true = %q, want %q", got.lines(), want)
	}

	got, _ = get("query=todo&contextLines=1&filePattern=*.go")
	if len(got.Matches) != 1 || got.Matches[0].Context == nil || *got.Matches[0].Context != "\n// TODO: fix\nfunc A() {}" {
		t.Errorf("contextLines=1 filePattern=*.go = %+v, want a.go with the lines around", got.Matches)
	}

	got, _ = get("query=todo&maxResults=1")
	if want := []string{"a.go:3"}; !slices.Equal(got.lines(), want) || got.Total != 1 {
		t.Errorf("maxResults=1 = %q total %d, want %q", got.lines(), got.Total, want)
	}

	got, _ = get("query=todo&excludeDirs=b")
	if want := []string{"a.go:3", "node_modules/m.js:1", "utf.txt:1"}; !slices.Equal(got.lines(), want) {
		t.Errorf("excludeDirs=b = %q, want %q", got.lines(), want)
	}

	got, _ = get("query=" + url.QueryEscape("no such text"))
	if len(got.Matches) != 0 || got.Total != 0 || got.Query != "no such text" {
		t.Errorf("no match = %+v", got)
	}

	// The raw double-slash form and a relative root work too.
	var rel contentResponse
	d.doJSON(http.MethodGet, "/filesystem-content-search/code/b?query=TODO", nil, http.StatusOK, &rel)
	if want := []string{"b.py:2"}; !slices.Equal(rel.lines(), want) {
		t.Errorf("relative root = %q, want %q", rel.lines(), want)
	}
	var raw contentResponse
	d.doJSON(http.MethodGet, "/filesystem-content-search/"+root+"/b?query=TODO", nil, http.StatusOK, &raw)
	if want := []string{"b.py:2"}; !slices.Equal(raw.lines(), want) {
		t.Errorf("double-slash root = %q, want %q", raw.lines(), want)
	}
}

// TestContentSearchLargeTreeStopsEarly: many matching files, a small
// maxResults: the answer is the first lines in walk order, every time.
func TestContentSearchLargeTreeStopsEarly(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "many")
	entries := map[string]string{}
	for i := range 2000 {
		entries[fmt.Sprintf("d%02d/f%04d.txt", i%20, i)] = "first line\nthe needle is here\nlast line\n"
	}
	testsupport.WriteTree(t, root, entries)
	var first contentResponse
	for range 5 {
		var got contentResponse
		d.doJSON(http.MethodGet, "/filesystem-content-search/"+sdkPath(root)+"?query=needle&maxResults=7", nil, http.StatusOK, &got)
		if len(got.Matches) != 7 || got.Total != 7 || got.Matches[0].Path != "d00/f0000.txt" || got.Matches[6].Path != "d00/f0120.txt" {
			t.Fatalf("maxResults=7 = %q", got.lines())
		}
		if first.Matches != nil && !slices.Equal(got.lines(), first.lines()) {
			t.Fatalf("answers differ: %q then %q", first.lines(), got.lines())
		}
		first = got
	}
	var capped contentResponse
	d.doJSON(http.MethodGet, "/filesystem-content-search/"+sdkPath(root)+"?query=needle&maxResults=0", nil, http.StatusOK, &capped)
	if len(capped.Matches) != 1000 {
		t.Errorf("maxResults=0: %d matches, want the hard cap 1000", len(capped.Matches))
	}
}
