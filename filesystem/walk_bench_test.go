package filesystem

import (
	"context"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/benchtree"
)

// BenchmarkSearch100k runs the three searches in process over one
// 100,000-file tree (built once: it takes a while), each beside its
// baseline in the same run: find and fuzzy search beside filepath.WalkDir,
// content search beside ripgrep with the same options. Without rg the
// content row fails: a row without its baseline says nothing.
func BenchmarkSearch100k(b *testing.B) {
	root := benchtree.Build(b)
	f := newSearchFS(b, root)
	ctx := context.Background()

	b.Run("find", func(b *testing.B) {
		var t benchtree.PairTimer
		t.Run(b, func() {
			got, _, err := f.Find(ctx, root, FindOptions{Patterns: []string{"*.rare"}})
			if err != nil || len(got) != benchtree.RareFiles {
				b.Fatalf("Find: %d matches, %v", len(got), err)
			}
		}, func() { benchtree.WalkDirCountRare(b, root) })
		t.Report(b, "find", "walkdir")
	})

	b.Run("fuzzy", func(b *testing.B) {
		var t benchtree.PairTimer
		t.Run(b, func() {
			got, _, err := f.FuzzySearch(ctx, root, FuzzyOptions{Query: "p5m3f42"})
			if err != nil || len(got) == 0 {
				b.Fatalf("FuzzySearch: %d matches, %v", len(got), err)
			}
		}, func() { benchtree.WalkDirCountRare(b, root) })
		t.Report(b, "fuzzy", "walkdir")
	})

	b.Run("content", func(b *testing.B) {
		query := strings.ToLower(benchtree.Needle)
		var t benchtree.PairTimer
		t.Run(b, func() {
			got, _, err := f.SearchContent(ctx, root, ContentSearchOptions{Query: query})
			if err != nil || len(got) != benchtree.RareFiles {
				b.Fatalf("SearchContent: %d matches, %v", len(got), err)
			}
		}, benchtree.Ripgrep(b, query, root))
		t.Report(b, "search", "rg")
	})
}
