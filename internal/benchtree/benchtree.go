// Package benchtree builds the 100,000-file tree the search benchmarks run
// on, and times a measured path beside its baseline. It serves the
// benchmarks of the filesystem package and of the daemon, so both measure
// the same thing the same way.
package benchtree

import (
	"bytes"
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

// The tree: 100 × 10 folders of 100 files, 100,000 files in all (about
// 60 MB); one in a thousand is named *.rare and holds Needle.
const (
	topDirs   = 100
	subDirs   = 10
	dirFiles  = 100
	RareFiles = topDirs * subDirs * dirFiles / 1000
	Needle    = "Needle_Of_The_Benchmark"
)

// Build makes the tree under a new temporary folder; each file holds about
// 600 bytes of code-like lines.
func Build(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	var sb strings.Builder
	for l := range 15 {
		fmt.Fprintf(&sb, "\tvalue%d := compute(input, %d) // some comment text\n", l, l*7)
	}
	body := []byte(sb.String())
	rare := append(slices.Clone(body), "\t// "+Needle+" found here\n"...)
	for i := range topDirs {
		for j := range subDirs {
			dir := filepath.Join(root, fmt.Sprintf("pkg%03d", i), fmt.Sprintf("mod%d", j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range dirFiles {
				name, data := fmt.Sprintf("file%03d.go", k), body
				if (i*subDirs*dirFiles+j*dirFiles+k)%1000 == 999 {
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

// WalkDirCountRare is the walk baseline: filepath.WalkDir over the tree,
// counting the *.rare files.
func WalkDirCountRare(b *testing.B, root string) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".rare" {
			n++
		}
		return err
	})
	if err != nil || n != RareFiles {
		b.Fatalf("WalkDir: %d rare files, %v; want %d", n, err, RareFiles)
	}
}

// Ripgrep returns the content-search baseline: ripgrep looking for the
// literal query, ignoring case, with line and column numbers. Without rg
// the benchmark fails: a row without its baseline says nothing.
func Ripgrep(b *testing.B, query, root string) func() {
	rg, err := exec.LookPath("rg")
	if err != nil {
		b.Fatal("ripgrep (rg) is the baseline of this benchmark and is not installed: apt-get install -y ripgrep")
	}
	return func() {
		out, err := exec.Command(rg, "--fixed-strings", "--ignore-case", "--line-number", "--column", "--no-heading", query, root).Output()
		if n := bytes.Count(out, []byte{'\n'}); err != nil || n != RareFiles {
			b.Fatalf("rg: %d lines, %v; want %d", n, err, RareFiles)
		}
	}
}

// PairTimer accumulates the time of a measured path and of its baseline,
// run once each per iteration, taking turns at going first so both see the
// same machine and caches.
type PairTimer struct{ measured, baseline time.Duration }

// Run times measured and baseline once per benchmark iteration.
func (t *PairTimer) Run(b *testing.B, measured, baseline func()) {
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

// Report gives both per-operation times in ms and their ratio.
func (t *PairTimer) Report(b *testing.B, measured, baseline string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(t.measured), measured+"-ms")
	b.ReportMetric(ms(t.baseline), baseline+"-ms")
	b.ReportMetric(float64(t.measured)/float64(t.baseline), measured+"/"+baseline)
}
