package filesystem

// Searching one file: the query finder and the buffered, line-aware scan.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lineFinder finds the query in whole lines. Case-insensitive ASCII
// queries search an ASCII-lower-cased copy of the data with the
// SIMD-backed bytes.Index (offsets stay the same, since only single bytes
// change); other case-insensitive queries go through the regexp engine,
// because Unicode case folding may change byte lengths.
type lineFinder struct {
	query []byte         // lower case when fold is set
	fold  bool           // compare ASCII letters without case
	re    *regexp.Regexp // case-insensitive non-ASCII query
}

func newLineFinder(query string, caseSensitive bool) (lineFinder, error) {
	switch {
	case query == "":
		return lineFinder{}, fmt.Errorf("%w: the query is empty", ErrInvalidSearch)
	case len(query) > maxQueryBytes:
		return lineFinder{}, fmt.Errorf("%w: the query is longer than %d bytes", ErrInvalidSearch, maxQueryBytes)
	case strings.ContainsAny(query, "\n\r"):
		return lineFinder{}, fmt.Errorf("%w: the query spans lines; it must fit in one line", ErrInvalidSearch)
	}
	q := []byte(query)
	switch {
	case caseSensitive || !hasCase(q):
		return lineFinder{query: q}, nil
	case isASCII(q):
		return lineFinder{query: bytes.ToLower(q), fold: true}, nil
	default:
		return lineFinder{re: regexp.MustCompile("(?i)" + regexp.QuoteMeta(query))}, nil
	}
}

// hasCase tells whether any character of b has another case.
func hasCase(b []byte) bool {
	return bytes.ContainsFunc(b, func(r rune) bool { return unicode.SimpleFold(r) != r })
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII writes src to dst with A-Z lower-cased, eight bytes at a
// time: per-byte lower-casing would be the slowest part of a search.
func lowerASCII(dst, src []byte) {
	const ones = 0x0101010101010101
	n := len(src) &^ 7
	for i := 0; i < n; i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		low7 := x & (0x7f * ones)
		atLeastA := low7 + (0x80-'A')*ones              // high bit set where the byte's low 7 bits >= 'A'
		pastZ := low7 + (0x80-'Z'-1)*ones               // high bit set where they are > 'Z'
		upper := atLeastA &^ pastZ &^ x & (0x80 * ones) // and the byte is ASCII
		binary.LittleEndian.PutUint64(dst[i:], x|upper>>2)
	}
	for i := n; i < len(src); i++ {
		c := src[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// fileGrep searches files one after the other with reusable buffers; one
// per worker.
type fileGrep struct {
	finder  lineFinder
	context int
	buf     []byte // the file's data
	low     []byte // buf lower-cased, for a folding finder
	lowered int    // low is valid up to here
}

func newFileGrep(finder lineFinder, context int) *fileGrep {
	g := &fileGrep{finder: finder, context: context, buf: make([]byte, grepBufferBytes)}
	if finder.fold {
		g.low = make([]byte, grepBufferBytes)
	}
	return g
}

// find returns the offset and length of the first match in buf[from:to],
// an offset of -1 when there is none.
func (g *fileGrep) find(from, to int) (int, int) {
	switch {
	case g.finder.re != nil:
		loc := g.finder.re.FindIndex(g.buf[from:to])
		if loc == nil {
			return -1, 0
		}
		return from + loc[0], loc[1] - loc[0]
	case g.finder.fold:
		// Each byte is lower-cased once, however many matches follow.
		if start := max(g.lowered, from); start < to {
			lowerASCII(g.low[start:to], g.buf[start:to])
		}
		g.lowered = max(g.lowered, to)
		return indexFrom(g.low[from:to], g.finder.query, from), len(g.finder.query)
	default:
		return indexFrom(g.buf[from:to], g.finder.query, from), len(g.finder.query)
	}
}

func indexFrom(data, q []byte, offset int) int {
	if i := bytes.Index(data, q); i >= 0 {
		return offset + i
	}
	return -1
}

// batch returns the matching lines of the files, in order, at most limit.
// A file that cannot be opened or read is skipped, as an unreadable folder
// is.
func (g *fileGrep) batch(ctx context.Context, files []grepTarget, limit int) []ContentMatch {
	var out []ContentMatch
	for _, t := range files {
		if len(out) >= limit || ctx.Err() != nil {
			break
		}
		f, err := openGrepFile(t.abs)
		if err != nil {
			continue
		}
		_ = g.scan(ctx, f, func(m ContentMatch) bool {
			m.Path = t.rel
			out = append(out, m)
			return len(out) < limit
		})
		f.Close()
	}
	return out
}

// errBinary and errLineTooLong end the scan of a file quietly.
var (
	errBinary      = errors.New("binary file")
	errLineTooLong = errors.New("line too long")
)

// scan reads r through the buffer and reports each matching line until
// emit returns false. The buffer holds whole lines from its start; a match
// is reported once the lines of its after-context are in, and the lines of
// a before-context are kept when the buffer slides.
func (g *fileGrep) scan(ctx context.Context, r io.Reader, emit func(ContentMatch) bool) error {
	end := 0     // valid data is buf[:end]
	from := 0    // the search resumes here, at the start of a line
	lineNo := 1  // number of the line that starts at counted
	counted := 0 // lines are counted up to here
	eof := false
	g.lowered = 0
	for first := true; ; first = false {
		// Fill; the first round reads at least the binary sniff.
		for !eof && end < len(g.buf) {
			n, err := r.Read(g.buf[end:])
			end += n
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			if !first || end >= binarySniffBytes || n == 0 {
				break
			}
		}
		if first && bytes.IndexByte(g.buf[:min(end, binarySniffBytes)], 0) >= 0 {
			return errBinary
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		buf := g.buf
		// Only whole lines are searched: up to the last newline, or all
		// the data at EOF. A buffer that cannot grow any more reports
		// matches with what it holds of their after-context.
		complete := end
		if !eof {
			complete = bytes.LastIndexByte(buf[:end], '\n') + 1
		}
		full := !eof && end == len(buf) && len(buf) >= grepMaxBufferBytes
		for from < complete {
			at, n := g.find(from, complete)
			if at < 0 {
				from = complete
				break
			}
			lineStart := bytes.LastIndexByte(buf[:at], '\n') + 1
			lineEnd := lineEndAt(buf[:complete], at+max(n, 1)-1)
			afterEnd, ok := linesAfter(buf[:complete], lineEnd, g.context)
			if !ok && !eof && !full {
				from = lineStart // the rest of its after-context is not read yet
				break
			}
			lineNo += bytes.Count(buf[counted:lineStart], newline)
			counted = lineStart
			m := ContentMatch{
				Line:   lineNo,
				Column: utf8.RuneCount(buf[lineStart:at]) + 1,
				Text:   lineWindow(buf[lineStart:lineEnd], at-lineStart),
			}
			if g.context > 0 {
				beforeStart := linesBefore(buf, lineStart, g.context)
				m.Context = contextText(buf[beforeStart:afterEnd], lineStart-beforeStart, at-lineStart)
			}
			if !emit(m) {
				return nil
			}
			from = min(lineEnd+1, complete)
		}
		if eof {
			return nil
		}
		// Slide: keep the before-context of from and the unread rest;
		// grow instead when that would leave little room.
		lineNo += bytes.Count(buf[counted:from], newline)
		counted = from
		keep := linesBefore(buf, from, g.context)
		if end == len(buf) && end-keep > len(buf)/2 {
			if len(buf) < grepMaxBufferBytes {
				g.grow(end)
				continue
			}
			if keep == 0 {
				return errLineTooLong
			}
		}
		copy(buf, buf[keep:end])
		if g.low != nil && g.lowered > keep {
			copy(g.low, g.low[keep:g.lowered])
		}
		g.lowered = max(g.lowered-keep, 0)
		end -= keep
		from -= keep
		counted -= keep
	}
}

var newline = []byte{'\n'}

// grow doubles the buffers, keeping their first n bytes.
func (g *fileGrep) grow(n int) {
	buf := make([]byte, 2*len(g.buf))
	copy(buf, g.buf[:n])
	g.buf = buf
	if g.low != nil {
		low := make([]byte, len(buf))
		copy(low, g.low[:g.lowered])
		g.low = low
	}
}

// lineEndAt is the offset of the newline ending the line that holds
// offset i (or len(data) for an unterminated last line).
func lineEndAt(data []byte, i int) int {
	if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(data)
}

// linesAfter returns where the n lines after the line ending at lineEnd
// end, and whether data holds all n.
func linesAfter(data []byte, lineEnd, n int) (int, bool) {
	end := lineEnd
	for range n {
		if end+1 >= len(data) {
			return end, false
		}
		end = lineEndAt(data, end+1)
	}
	return end, true
}

// linesBefore returns the start of the n lines before the line starting at
// lineStart (fewer if data starts first).
func linesBefore(data []byte, lineStart, n int) int {
	start := lineStart
	for range n {
		if start == 0 {
			break
		}
		start = bytes.LastIndexByte(data[:start-1], '\n') + 1
	}
	return start
}

// contextText joins the lines of block with "\n", each cut to
// MaxLineBytes; the match line, at matchLine in block, is cut around the
// match.
func contextText(block []byte, matchLine, matchAt int) string {
	var sb strings.Builder
	for off := 0; ; {
		line, next := block[off:], -1
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		if off > 0 {
			sb.WriteByte('\n')
		}
		at := 0
		if off == matchLine {
			at = matchAt
		}
		sb.WriteString(lineWindow(line, at))
		if next < 0 {
			return sb.String()
		}
		off = next
	}
}

// lineWindow is the line without its "\r", cut to MaxLineBytes on
// character boundaries: from the start when the match is near it,
// otherwise from a little before the match.
func lineWindow(line []byte, matchAt int) string {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) <= MaxLineBytes {
		return string(line)
	}
	start := 0
	if matchAt > MaxLineBytes*3/4 {
		start = max(min(matchAt-MaxLineBytes/4, len(line)-MaxLineBytes), 0)
		for start > 0 && !utf8.RuneStart(line[start]) {
			start--
		}
	}
	end := min(start+MaxLineBytes, len(line))
	for end > start && end < len(line) && !utf8.RuneStart(line[end]) {
		end--
	}
	return string(line[start:end])
}
