package main

// Benchmarks of the searches through the real daemon, each beside its
// physical baseline measured in the same run on the same tree: find
// against an in-process filepath.WalkDir, content search against ripgrep.

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The benchmark tree: 100 × 10 folders of 100 files, 100,000 files in all
// (about 60 MB); one in a thousand is named *.rare and holds the needle.
const (
	searchBenchTop    = 100
	searchBenchSub    = 10
	searchBenchFiles  = 100
	searchBenchRare   = searchBenchTop * searchBenchSub * searchBenchFiles / 1000
	searchBenchNeedle = "Needle_Of_The_Benchmark"
)

// searchBenchTree builds the tree under a new temporary folder; each file
// holds about 600 bytes of code-like lines.
func searchBenchTree(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	var sb strings.Builder
	for l := range 15 {
		fmt.Fprintf(&sb, "\tvalue%d := compute(input, %d) // some comment text\n", l, l*7)
	}
	body := []byte(sb.String())
	rare := append(slices.Clone(body), "\t// "+searchBenchNeedle+" found here\n"...)
	for i := range searchBenchTop {
		for j := range searchBenchSub {
			dir := filepath.Join(root, fmt.Sprintf("pkg%03d", i), fmt.Sprintf("mod%d", j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range searchBenchFiles {
				name, data := fmt.Sprintf("file%03d.go", k), body
				if (i*searchBenchSub*searchBenchFiles+j*searchBenchFiles+k)%1000 == 999 {
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

// pairTimer accumulates the time of a measured path and of its baseline,
// run once each per iteration, taking turns at going first so both see the
// same machine and caches.
type pairTimer struct{ measured, baseline time.Duration }

func (t *pairTimer) run(b *testing.B, measured, baseline func()) {
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
func (t *pairTimer) report(b *testing.B, measured, baseline string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(t.measured), measured+"-ms")
	b.ReportMetric(ms(t.baseline), baseline+"-ms")
	b.ReportMetric(float64(t.measured)/float64(t.baseline), measured+"/"+baseline)
}

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
	root := searchBenchTree(b)
	d := startDaemon(b, daemonOptions{})

	b.Run("find", func(b *testing.B) {
		path := "/filesystem-find/" + sdkPath(root) + "?type=file&patterns=*.rare&maxResults=0"
		var t pairTimer
		t.run(b, func() {
			var got findResponse
			d.doJSON(http.MethodGet, path, nil, http.StatusOK, &got)
			if len(got.Matches) != searchBenchRare {
				b.Fatalf("find: %d matches, want %d", len(got.Matches), searchBenchRare)
			}
		}, func() {
			n := 0
			err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() && filepath.Ext(p) == ".rare" {
					n++
				}
				return err
			})
			if err != nil || n != searchBenchRare {
				b.Fatalf("WalkDir: %d files, %v; want %d", n, err, searchBenchRare)
			}
		})
		t.report(b, "find", "walkdir")
	})

	b.Run("content", func(b *testing.B) {
		rg, err := exec.LookPath("rg")
		if err != nil {
			b.Fatal("ripgrep (rg) is the baseline of this benchmark and is not installed: apt-get install -y ripgrep")
		}
		query := strings.ToLower(searchBenchNeedle)
		path := "/filesystem-content-search/" + sdkPath(root) + "?query=" + query + "&maxResults=1000"
		var t pairTimer
		t.run(b, func() {
			var got contentResponse
			d.doJSON(http.MethodGet, path, nil, http.StatusOK, &got)
			if len(got.Matches) != searchBenchRare {
				b.Fatalf("content search: %d matches, want %d", len(got.Matches), searchBenchRare)
			}
		}, func() {
			out, err := exec.Command(rg, "--fixed-strings", "--ignore-case", "--line-number", "--column", "--no-heading", query, root).Output()
			if n := bytes.Count(out, []byte{'\n'}); err != nil || n != searchBenchRare {
				b.Fatalf("rg: %d lines, %v; want %d", n, err, searchBenchRare)
			}
		})
		t.report(b, "search", "rg")
	})
}
