package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// referenceGrep is the obvious line-by-line search that scan must agree
// with, for ASCII data.
func referenceGrep(data, query string, caseSensitive bool, context int) []ContentMatch {
	lines := strings.Split(data, "\n")
	if strings.HasSuffix(data, "\n") {
		lines = lines[:len(lines)-1]
	}
	q := query
	if !caseSensitive {
		q = strings.ToLower(q)
	}
	var out []ContentMatch
	for i, line := range lines {
		subject := line
		if !caseSensitive {
			subject = strings.ToLower(line)
		}
		at := strings.Index(subject, q)
		if at < 0 {
			continue
		}
		m := ContentMatch{Line: i + 1, Column: utf8.RuneCountInString(line[:at]) + 1, Text: lineWindow([]byte(line), at)}
		if context > 0 {
			var ctx []string
			for j := max(0, i-context); j <= min(len(lines)-1, i+context); j++ {
				a := 0
				if j == i {
					a = at
				}
				ctx = append(ctx, lineWindow([]byte(lines[j]), a))
			}
			m.Context = strings.Join(ctx, "\n")
		}
		out = append(out, m)
	}
	return out
}

// scanAll runs one fileGrep over data with a starting buffer of bufSize.
func scanAll(t *testing.T, r io.Reader, query string, caseSensitive bool, context, limit, bufSize int) []ContentMatch {
	t.Helper()
	finder, err := newLineFinder(query, caseSensitive)
	if err != nil {
		t.Fatal(err)
	}
	g := newFileGrep(finder, context)
	g.buf = make([]byte, bufSize)
	if g.low != nil {
		g.low = make([]byte, bufSize)
	}
	var out []ContentMatch
	err = g.scan(t.Context(), r, func(m ContentMatch) bool {
		out = append(out, m)
		return len(out) < limit
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out
}

func randomText(r *rand.Rand, n int) string {
	pieces := []string{"a", "b", "A", "B", " ", "\n", "\n", "ab", "\r\n", "x"}
	var sb strings.Builder
	for sb.Len() < n {
		if r.IntN(200) == 0 { // now and then a line longer than MaxLineBytes
			sb.WriteString(strings.Repeat("x", MaxLineBytes+r.IntN(300)))
		}
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func TestScanAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	queries := []string{"ab", "aB", "b a", "a", "xx", "abab"}
	for iter := range 300 {
		data := randomText(r, r.IntN(3000))
		query := queries[r.IntN(len(queries))]
		caseSensitive := r.IntN(2) == 0
		context := r.IntN(4)
		bufSize := []int{1, 2, 7, 64, 512, grepBufferBytes}[r.IntN(6)]
		want := referenceGrep(data, query, caseSensitive, context)
		limit := 1 << 30
		if r.IntN(3) == 0 && len(want) > 0 {
			limit = 1 + r.IntN(len(want))
			want = want[:limit]
		}
		var reader io.Reader = strings.NewReader(data)
		if r.IntN(2) == 0 {
			reader = iotest.OneByteReader(reader)
		}
		got := scanAll(t, reader, query, caseSensitive, context, limit, bufSize)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: query %q caseSensitive %v context %d buffer %d limit %d on %q:\ngot  %+v\nwant %+v",
				iter, query, caseSensitive, context, bufSize, limit, data, got, want)
		}
	}
}

func TestScanCases(t *testing.T) {
	tests := []struct {
		name          string
		data, query   string
		caseSensitive bool
		context       int
		want          []ContentMatch
	}{
		{"case ignored by default", "Hello\nhello\nHELLO", "hello", false, 0,
			[]ContentMatch{{Line: 1, Column: 1, Text: "Hello"}, {Line: 2, Column: 1, Text: "hello"}, {Line: 3, Column: 1, Text: "HELLO"}}},
		{"case sensitive", "Hello\nhello\nHELLO", "hello", true, 0,
			[]ContentMatch{{Line: 2, Column: 1, Text: "hello"}}},
		{"one result per line, first column", "x foo foo\n", "foo", true, 0,
			[]ContentMatch{{Line: 1, Column: 3, Text: "x foo foo"}}},
		{"column in characters", "héllo wörld\n", "wörld", true, 0,
			[]ContentMatch{{Line: 1, Column: 7, Text: "héllo wörld"}}},
		{"unicode case folding", "un ÉTÉ chaud\n", "été", false, 0,
			[]ContentMatch{{Line: 1, Column: 4, Text: "un ÉTÉ chaud"}}},
		{"CRLF lines", "a\r\nneedle\r\nb\r\n", "needle", true, 1,
			[]ContentMatch{{Line: 2, Column: 1, Text: "needle", Context: "a\nneedle\nb"}}},
		{"context clipped at both ends", "needle\nx\nneedle", "needle", true, 2,
			[]ContentMatch{{Line: 1, Column: 1, Text: "needle", Context: "needle\nx\nneedle"}, {Line: 3, Column: 1, Text: "needle", Context: "needle\nx\nneedle"}}},
		{"empty lines in context", "\n\nneedle\n\n", "needle", true, 1,
			[]ContentMatch{{Line: 3, Column: 1, Text: "needle", Context: "\nneedle\n"}}},
		{"query without letters", "1+1=2\n2+2=4\n", "+2", false, 0,
			[]ContentMatch{{Line: 2, Column: 2, Text: "2+2=4"}}},
		{"no match", "abc\n", "zzz", false, 3, nil},
		{"empty file", "", "x", false, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{3, grepBufferBytes} {
				got := scanAll(t, strings.NewReader(tc.data), tc.query, tc.caseSensitive, tc.context, 100, size)
				if !slices.Equal(got, tc.want) {
					t.Errorf("buffer %d: got %+v, want %+v", size, got, tc.want)
				}
			}
		})
	}
}

func TestScanLongLines(t *testing.T) {
	// A line far longer than the first buffer, with the match near its end.
	line := strings.Repeat("é", 300_000) + "NEEDLE" + strings.Repeat("z", 1000)
	got := scanAll(t, strings.NewReader("first\n"+line+"\nlast\n"), "needle", false, 1, 10, grepBufferBytes)
	if len(got) != 1 {
		t.Fatalf("got %d matches, want 1", len(got))
	}
	m := got[0]
	if m.Line != 2 || m.Column != 300_001 {
		t.Errorf("line %d column %d, want 2, 300001", m.Line, m.Column)
	}
	if len(m.Text) > MaxLineBytes || !strings.Contains(m.Text, "NEEDLE") || !utf8.ValidString(m.Text) {
		t.Errorf("text of %d bytes, valid UTF-8 %v, want at most %d with the match: %q", len(m.Text), utf8.ValidString(m.Text), MaxLineBytes, m.Text)
	}
	ctxLines := strings.Split(m.Context, "\n")
	if len(ctxLines) != 3 || ctxLines[0] != "first" || ctxLines[1] != m.Text || ctxLines[2] != "last" {
		t.Errorf("context %q, want first / the text / last", m.Context)
	}
}

func TestScanGivesUpOnHugeLines(t *testing.T) {
	// A line past the largest buffer ends that file's search instead of
	// growing memory further.
	finder, _ := newLineFinder("x", true)
	g := newFileGrep(finder, 0)
	r := io.LimitReader(zeroFreeReader{}, grepMaxBufferBytes+1)
	err := g.scan(t.Context(), r, func(ContentMatch) bool { return true })
	if !errors.Is(err, errLineTooLong) {
		t.Errorf("scan of a %d-byte line: %v, want errLineTooLong", grepMaxBufferBytes+1, err)
	}
	if len(g.buf) > grepMaxBufferBytes {
		t.Errorf("buffer grew to %d bytes, past %d", len(g.buf), grepMaxBufferBytes)
	}
}

// zeroFreeReader yields an endless line of "y".
type zeroFreeReader struct{}

func (zeroFreeReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	return len(p), nil
}

func TestScanSkipsBinary(t *testing.T) {
	finder, _ := newLineFinder("needle", true)
	g := newFileGrep(finder, 0)
	data := "needle\n" + strings.Repeat("x", 100) + "\x00" + "needle\n"
	found := 0
	err := g.scan(t.Context(), strings.NewReader(data), func(ContentMatch) bool { found++; return true })
	if !errors.Is(err, errBinary) || found != 0 {
		t.Errorf("binary data: err %v, %d matches; want errBinary, none", err, found)
	}
	// A NUL past the first 8 KiB does not make a file binary.
	data = "needle\n" + strings.Repeat("x\n", binarySniffBytes) + "\x00needle\n"
	got := scanAll(t, iotest.HalfReader(strings.NewReader(data)), "needle", true, 0, 10, grepBufferBytes)
	if len(got) != 2 {
		t.Errorf("late NUL: %d matches, want 2", len(got))
	}
}

func TestLineWindow(t *testing.T) {
	long := strings.Repeat("a", 2000)
	tests := []struct {
		name      string
		line      string
		at        int
		wantStart string
		wantLen   int
	}{
		{"short line whole", "abc\r", 1, "abc", 3},
		{"long line, match near the start", long, 10, "aaa", MaxLineBytes},
		{"long line, match far in", strings.Repeat("a", 1500) + "NEEDLE" + strings.Repeat("b", 500), 1500, "aaa", MaxLineBytes},
		{"long line, match at the very end", strings.Repeat("a", 1500) + "END", 1500, "aaa", MaxLineBytes},
	}
	for _, tc := range tests {
		got := lineWindow([]byte(tc.line), tc.at)
		if !strings.HasPrefix(got, tc.wantStart) || len(got) != tc.wantLen {
			t.Errorf("%s: %d bytes %q..., want %d starting %q", tc.name, len(got), got[:min(len(got), 10)], tc.wantLen, tc.wantStart)
		}
		if tc.at > MaxLineBytes && !strings.Contains(got, tc.line[tc.at:tc.at+3]) {
			t.Errorf("%s: window misses the match", tc.name)
		}
	}
	// Multi-byte characters are never cut.
	for at := range 40 {
		s := strings.Repeat("é", 400) + strings.Repeat("€", 100)
		got := lineWindow([]byte(s), at*25)
		if !utf8.ValidString(got) || len(got) > MaxLineBytes {
			t.Errorf("window at %d: %d bytes, valid %v", at*25, len(got), utf8.ValidString(got))
		}
	}
}

func TestNewLineFinderRejects(t *testing.T) {
	for _, q := range []string{"", "a\nb", "a\rb", strings.Repeat("q", maxQueryBytes+1)} {
		if _, err := newLineFinder(q, false); !errors.Is(err, ErrInvalidSearch) {
			t.Errorf("query %.20q: %v, want ErrInvalidSearch", q, err)
		}
	}
}

func TestSearchContent(t *testing.T) {
	root := makeSearchTree(t, map[string]string{
		"a.txt":               "one\nTODO: first\nthree\n",
		"b/c.go":              "package b\n// todo later\n",
		"b/d.md":              "nothing here\n",
		"bin.dat":             "TODO\x00binary",
		".hidden/h.txt":       "TODO hidden\n",
		"node_modules/m.js":   "TODO in deps\n",
		"z/deep/deeper/y.txt": "x\nx\nTODO deep\n",
	})
	if err := os.Symlink(filepath.Join(root, "a.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	f := newSearchFS(t, root)
	paths := func(ms []ContentMatch) []string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%s:%d", m.Path, m.Line))
		}
		return out
	}
	tests := []struct {
		name      string
		opts      ContentSearchOptions
		want      []string
		truncated bool
	}{
		{"defaults: case ignored, binary, hidden, heavy folders and symlinks skipped, walk order",
			ContentSearchOptions{Query: "todo"}, []string{"a.txt:2", "b/c.go:2", "z/deep/deeper/y.txt:3"}, false},
		{"case sensitive", ContentSearchOptions{Query: "todo", CaseSensitive: true}, []string{"b/c.go:2"}, false},
		{"file pattern", ContentSearchOptions{Query: "todo", FilePatterns: []string{"*.txt"}}, []string{"a.txt:2", "z/deep/deeper/y.txt:3"}, false},
		{"max results cut the answer", ContentSearchOptions{Query: "todo", MaxResults: 2}, []string{"a.txt:2", "b/c.go:2"}, true},
		{"max results exactly reached", ContentSearchOptions{Query: "todo", MaxResults: 3}, []string{"a.txt:2", "b/c.go:2", "z/deep/deeper/y.txt:3"}, false},
		{"hidden and every folder on request", ContentSearchOptions{Query: "todo", WalkOptions: WalkOptions{IncludeHidden: true, ExcludeDirs: []string{}}},
			[]string{".hidden/h.txt:1", "a.txt:2", "b/c.go:2", "node_modules/m.js:1", "z/deep/deeper/y.txt:3"}, false},
		{"relative root", ContentSearchOptions{Query: "todo"}, nil, false}, // root "z" below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			searchRoot := root
			want := tc.want
			if tc.want == nil {
				searchRoot, want = "z", []string{"deep/deeper/y.txt:3"}
			}
			got, truncated, err := f.SearchContent(context.Background(), searchRoot, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(paths(got), want) || truncated != tc.truncated {
				t.Errorf("got %q (truncated %v), want %q (truncated %v)", paths(got), truncated, want, tc.truncated)
			}
		})
	}
	got, _, err := f.SearchContent(context.Background(), root, ContentSearchOptions{Query: "first", ContextLines: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []ContentMatch{{Path: "a.txt", Line: 2, Column: 7, Text: "TODO: first", Context: "one\nTODO: first\nthree"}}
	if !slices.Equal(got, want) {
		t.Errorf("with context: %+v, want %+v", got, want)
	}
}

func TestSearchContentErrors(t *testing.T) {
	root := makeSearchTree(t, map[string]string{"f.txt": "x"})
	f := newSearchFS(t, root)
	tests := []struct {
		name string
		root string
		opts ContentSearchOptions
		want error
	}{
		{"empty query", root, ContentSearchOptions{}, ErrInvalidSearch},
		{"multi-line query", root, ContentSearchOptions{Query: "a\nb"}, ErrInvalidSearch},
		{"bad pattern", root, ContentSearchOptions{Query: "x", FilePatterns: []string{"[["}}, ErrInvalidSearch},
		{"missing root", filepath.Join(root, "nope"), ContentSearchOptions{Query: "x"}, fs.ErrNotExist},
		{"file root", filepath.Join(root, "f.txt"), ContentSearchOptions{Query: "x"}, ErrInvalidSearch},
	}
	for _, tc := range tests {
		if _, _, err := f.SearchContent(context.Background(), tc.root, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.SearchContent(ctx, root, ContentSearchOptions{Query: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v, want context.Canceled", err)
	}
}

// TestSearchContentManyFilesIsOrderedAndBounded: many files searched in
// parallel still give the walk order, the same answer every time, and a
// bounded search is the head of the unbounded one.
func TestSearchContentManyFilesIsOrderedAndBounded(t *testing.T) {
	entries := map[string]string{}
	for i := range 300 {
		var sb bytes.Buffer
		for l := range 1 + i%7 {
			fmt.Fprintf(&sb, "line %d of file %d: %s\n", l, i, []string{"match", "miss"}[l%2])
		}
		entries[fmt.Sprintf("d%d/f%03d.txt", i%5, i)] = sb.String()
	}
	root := makeSearchTree(t, entries)
	f := newSearchFS(t, root)
	all, truncated, err := f.SearchContent(context.Background(), root, ContentSearchOptions{Query: "match"})
	if err != nil {
		t.Fatal(err)
	}
	wantTotal := 0
	for i := range 300 {
		wantTotal += (1 + i%7 + 1) / 2
	}
	if len(all) != min(wantTotal, MaxContentResults) || truncated != (wantTotal > MaxContentResults) {
		t.Fatalf("%d matches (truncated %v), want %d of %d", len(all), truncated, min(wantTotal, MaxContentResults), wantTotal)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Path > b.Path || a.Path == b.Path && a.Line >= b.Line {
			t.Fatalf("out of order: %s:%d before %s:%d", a.Path, a.Line, b.Path, b.Line)
		}
	}
	for _, n := range []int{1, 7, 50, 333} {
		for range 3 {
			top, truncated, err := f.SearchContent(context.Background(), root, ContentSearchOptions{Query: "match", MaxResults: n})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(top, all[:n]) || !truncated {
				t.Fatalf("MaxResults %d: not the first %d of the full answer, or not said to be cut (truncated %v)", n, n, truncated)
			}
		}
	}
}

func TestLowerASCII(t *testing.T) {
	// Every byte value, at every offset and length around the 8-byte steps.
	src := make([]byte, 0, 600)
	for i := range 256 {
		src = append(src, byte(i))
	}
	src = append(src, src...)
	src = append(src, "Hello, WORLD! Été ÀZ@[`{"...)
	want := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out[i] = c
		}
		return out
	}
	for off := range 9 {
		for n := 0; off+n <= len(src); n += 1 + n/7 {
			dst := make([]byte, n)
			lowerASCII(dst, src[off:off+n])
			if w := want(src[off : off+n]); !bytes.Equal(dst, w) {
				t.Fatalf("lowerASCII(src[%d:%d]) = %q, want %q", off, off+n, dst, w)
			}
		}
	}
}
