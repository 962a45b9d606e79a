package filesystem

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The benchmark tree: 100 × 10 folders of 100 files, 100,000 files in all
// (about 60 MB), one in a thousand named *.rare and holding benchNeedle.
const (
	benchTopDirs   = 100
	benchSubDirs   = 10
	benchDirFiles  = 100
	benchRareFiles = benchTopDirs * benchSubDirs * benchDirFiles / 1000
	benchNeedle    = "Needle_Of_The_Benchmark"
)

// benchSearchTree builds the benchmark tree; each file holds about 600
// bytes of code-like lines.
func benchSearchTree(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	var sb strings.Builder
	for l := range 15 {
		fmt.Fprintf(&sb, "\tvalue%d := compute(input, %d) // some comment text\n", l, l*7)
	}
	body := []byte(sb.String())
	rare := append(slices.Clone(body), "\t// "+benchNeedle+" found here\n"...)
	for i := range benchTopDirs {
		for j := range benchSubDirs {
			dir := filepath.Join(root, fmt.Sprintf("pkg%03d", i), fmt.Sprintf("mod%d", j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range benchDirFiles {
				name, data := fmt.Sprintf("file%03d.go", k), body
				if (i*benchSubDirs*benchDirFiles+j*benchDirFiles+k)%1000 == 999 {
					name, data = fmt.Sprintf("file%03d.rare", k), rare
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return root
}

// benchTimer accumulates the time of a measured path and of its baseline,
// run once each per iteration, taking turns at going first so both see the
// same machine and caches.
type benchTimer struct{ measured, baseline time.Duration }

func (t *benchTimer) run(b *testing.B, measured, baseline func()) {
	timed := func(f func(), total *time.Duration) {
		start := time.Now()
		f()
		*total += time.Since(start)
	}
	measured() // warm the caches for both
	baseline()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(measured, &t.measured)
			timed(baseline, &t.baseline)
		} else {
			timed(baseline, &t.baseline)
			timed(measured, &t.measured)
		}
	}
}

// report gives both per-operation times in ms and their ratio.
func (t *benchTimer) report(b *testing.B, measured, baseline string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(t.measured), measured+"-ms")
	b.ReportMetric(ms(t.baseline), baseline+"-ms")
	b.ReportMetric(float64(t.measured)/float64(t.baseline), measured+"/"+baseline)
}

// walkDirCount is the baseline walk: filepath.WalkDir over the tree,
// counting the *.rare files.
func walkDirCount(b *testing.B, root string) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".rare" {
			n++
		}
		return err
	})
	if err != nil || n != benchRareFiles {
		b.Fatalf("WalkDir: %d rare files, %v", n, err)
	}
}

// BenchmarkSearch100k runs the three searches in process over one
// 100,000-file tree (built once: it takes a while), each beside its
// baseline in the same run: find and fuzzy search beside filepath.WalkDir,
// content search beside ripgrep with the same options. Without rg the
// content row fails: a row without its baseline says nothing.
func BenchmarkSearch100k(b *testing.B) {
	root := benchSearchTree(b)
	f := newSearchFS(b, root)
	ctx := context.Background()

	b.Run("find", func(b *testing.B) {
		var t benchTimer
		t.run(b, func() {
			got, err := f.Find(ctx, root, FindOptions{Patterns: []string{"*.rare"}})
			if err != nil || len(got) != benchRareFiles {
				b.Fatalf("Find: %d matches, %v", len(got), err)
			}
		}, func() { walkDirCount(b, root) })
		t.report(b, "find", "walkdir")
	})

	b.Run("fuzzy", func(b *testing.B) {
		var t benchTimer
		t.run(b, func() {
			got, err := f.FuzzySearch(ctx, root, FuzzyOptions{Query: "p5m3f42"})
			if err != nil || len(got) == 0 {
				b.Fatalf("FuzzySearch: %d matches, %v", len(got), err)
			}
		}, func() { walkDirCount(b, root) })
		t.report(b, "fuzzy", "walkdir")
	})

	b.Run("content", func(b *testing.B) {
		rg, err := exec.LookPath("rg")
		if err != nil {
			b.Fatal("ripgrep (rg) is the baseline of this benchmark and is not installed: apt-get install -y ripgrep")
		}
		query := strings.ToLower(benchNeedle)
		var t benchTimer
		t.run(b, func() {
			got, err := f.SearchContent(ctx, root, ContentSearchOptions{Query: query})
			if err != nil || len(got) != benchRareFiles {
				b.Fatalf("SearchContent: %d matches, %v", len(got), err)
			}
		}, func() {
			out, err := exec.Command(rg, "--fixed-strings", "--ignore-case", "--line-number", "--column", "--no-heading", query, root).Output()
			if n := bytes.Count(out, []byte{'\n'}); err != nil || n != benchRareFiles {
				b.Fatalf("rg: %d lines, %v", n, err)
			}
		})
		t.report(b, "search", "rg")
	})
}
