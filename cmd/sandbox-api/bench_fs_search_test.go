package main

// Benchmarks of the searches through the real daemon, each beside its
// physical baseline measured in the same run on the same tree: find
// against an in-process filepath.WalkDir, content search against ripgrep.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/benchtree"
)

// BenchmarkSearchHTTP: the searches over one 100,000-file tree (built once:
// it takes a while) through the daemon, each beside its baseline:
//   - find: GET /filesystem-find for a pattern that matches 100 files (so
//     the whole tree is walked) against filepath.WalkDir counting the same
//     files in this process;
//   - content: GET /filesystem-content-search for a literal,
//     case-insensitive needle on 100 lines against ripgrep with the same
//     options (fixed string, ignore case, line and column numbers). Without
//     rg this row fails: a row without its baseline says nothing.
func BenchmarkSearchHTTP(b *testing.B) {
	root := benchtree.Build(b)
	d := startDaemon(b, daemonOptions{})

	b.Run("find", func(b *testing.B) {
		path := "/filesystem-find/" + sdkPath(root) + "?type=file&patterns=*.rare&maxResults=0"
		var t benchtree.PairTimer
		t.Run(b, func() {
			var got findResponse
			d.doJSON(http.MethodGet, path, nil, http.StatusOK, &got)
			if len(got.Matches) != benchtree.RareFiles {
				b.Fatalf("find: %d matches, want %d", len(got.Matches), benchtree.RareFiles)
			}
		}, func() { benchtree.WalkDirCountRare(b, root) })
		t.Report(b, "find", "walkdir")
	})

	b.Run("content", func(b *testing.B) {
		query := strings.ToLower(benchtree.Needle)
		path := "/filesystem-content-search/" + sdkPath(root) + "?query=" + query + "&maxResults=1000"
		var t benchtree.PairTimer
		t.Run(b, func() {
			var got contentResponse
			d.doJSON(http.MethodGet, path, nil, http.StatusOK, &got)
			if len(got.Matches) != benchtree.RareFiles {
				b.Fatalf("content search: %d matches, want %d", len(got.Matches), benchtree.RareFiles)
			}
		}, benchtree.Ripgrep(b, query, root))
		t.Report(b, "search", "rg")
	})
}
