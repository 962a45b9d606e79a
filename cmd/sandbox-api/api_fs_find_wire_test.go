package main

// Black-box tests of what the searches return: every match on request,
// the root listed as find(1) lists it, and answers that say when they are
// cut.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// truncatedOf reads the answer's "truncated" field, failing when it is
// missing or not a boolean: clients must be able to rely on it.
func truncatedOf(t *testing.T, what string, body []byte) bool {
	t.Helper()
	var v struct {
		Truncated *bool `json:"truncated"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Truncated == nil {
		t.Fatalf("%s: no boolean truncated in %s (%v)", what, testsupport.Truncate(body), err)
	}
	return *v.Truncated
}

// TestFindEveryMatch: maxResults=0 returns every match of a large tree,
// each once, with the right total.
func TestFindEveryMatch(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "big")
	const folders, perFolder = 120, 100 // 12,000 files
	for i := range folders {
		sub := filepath.Join(root, fmt.Sprintf("d%03d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range perFolder {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%04d.txt", j)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	resp, body := d.do(http.MethodGet, "/filesystem-find/"+sdkPath(root)+"?type=file&maxResults=0", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("find maxResults=0: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), testsupport.Truncate(body))
	}
	var got findResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode the answer (%d bytes): %v", len(body), err)
	}
	seen := make(map[string]bool, folders*perFolder)
	for _, m := range got.Matches {
		if m.Type != "file" || seen[m.Path] {
			t.Fatalf("match %+v: not a file, or listed twice", m)
		}
		seen[m.Path] = true
	}
	for i := range folders {
		for j := range perFolder {
			if p := fmt.Sprintf("d%03d/file-%04d.txt", i, j); !seen[p] {
				t.Fatalf("%s missing from the %d matches", p, len(got.Matches))
			}
		}
	}
	if len(got.Matches) != folders*perFolder || got.Total != folders*perFolder || truncatedOf(t, "find maxResults=0", body) {
		t.Errorf("find maxResults=0: %d matches, total %d, truncated %v; want all %d, complete",
			len(got.Matches), got.Total, truncatedOf(t, "find", body), folders*perFolder)
	}

	// Past what the daemon once capped (10,000), an explicit bound is kept too.
	var bounded findResponse
	_, body = d.do(http.MethodGet, "/filesystem-find/"+sdkPath(root)+"?type=file&maxResults=11000", nil)
	if err := json.Unmarshal(body, &bounded); err != nil || len(bounded.Matches) != 11000 || bounded.Total != 11000 || !truncatedOf(t, "find maxResults=11000", body) {
		t.Errorf("find maxResults=11000: %d matches, total %d (%v), want 11000 and truncated", len(bounded.Matches), bounded.Total, err)
	}
}

// TestFindDirectoriesListsTheRoot: type=directory lists the search root
// itself as ".", as find(1) and the existing daemon do (OBSERVED row
// "find directories").
func TestFindDirectoriesListsTheRoot(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "dir")
	testsupport.WriteTree(t, dir, map[string]string{"sub/b.go": "package b\nfunc Needle() {}\n"})
	resp, body := d.do(http.MethodGet, "/filesystem-find/"+sdkPath(dir)+"?type=directory", nil)
	wantBody(t, "find directories", resp, body, http.StatusOK,
		`{"matches":[{"path":".","type":"directory"},{"path":"sub","type":"directory"}],"total":2,"truncated":false}`)
	// A file pattern does not match the root.
	resp, body = d.do(http.MethodGet, "/filesystem-find/"+sdkPath(d.workDir)+"?patterns=*.go", nil)
	wantBody(t, "find *.go", resp, body, http.StatusOK,
		`{"matches":[{"path":"dir/sub/b.go","type":"file"}],"total":1,"truncated":false}`)
	// Nothing found is still a whole answer.
	resp, body = d.do(http.MethodGet, "/filesystem-find/"+sdkPath(dir)+"?patterns=*.rs", nil)
	wantBody(t, "find *.rs", resp, body, http.StatusOK, `{"matches":[],"total":0,"truncated":false}`)
}

// TestSearchesSayTruncated: find, fuzzy search and content search say
// truncated exactly when more matches existed than they returned.
func TestSearchesSayTruncated(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "three")
	testsupport.WriteTree(t, root, map[string]string{"a.txt": "needle\n", "b.txt": "needle\n", "c.txt": "needle\n"})
	base := map[string]string{
		"find":           "/filesystem-find/" + sdkPath(root) + "?type=file&",
		"fuzzy search":   "/filesystem-search/" + sdkPath(root) + "?query=txt&",
		"content search": "/filesystem-content-search/" + sdkPath(root) + "?query=needle&",
	}
	for what, prefix := range base {
		for _, tc := range []struct {
			maxResults string
			matches    int
			truncated  bool
		}{
			{"1", 1, true},
			{"2", 2, true},
			{"3", 3, false}, // exactly all: complete
			{"50", 3, false},
			{"0", 3, false},
		} {
			resp, body := d.do(http.MethodGet, prefix+"maxResults="+tc.maxResults, nil)
			var got struct {
				Matches []json.RawMessage `json:"matches"`
				Total   int               `json:"total"`
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
				t.Fatalf("%s maxResults=%s: %d %s", what, tc.maxResults, resp.StatusCode, testsupport.Truncate(body))
			}
			tr := truncatedOf(t, what, body)
			if len(got.Matches) != tc.matches || got.Total != tc.matches || tr != tc.truncated {
				t.Errorf("%s maxResults=%s: %d matches, total %d, truncated %v; want %d, truncated %v",
					what, tc.maxResults, len(got.Matches), got.Total, tr, tc.matches, tc.truncated)
			}
		}
	}
}
