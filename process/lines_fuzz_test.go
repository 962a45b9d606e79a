package process

import (
	"bytes"
	"testing"
)

// splitAll feeds chunks through one lineSplitter, flushes it, and returns
// what each stream got back: lines rejoined with their newlines, and the
// emitted pieces in order.
func splitAll(chunks []Chunk) (text [3][]byte, pieces [3][]Line) {
	var ls lineSplitter
	emit := func(s Stream, line []byte, eol bool) {
		text[s] = append(text[s], line...)
		if eol {
			text[s] = append(text[s], '\n')
		}
		pieces[s] = append(pieces[s], Line{Stream: s, Text: append([]byte(nil), line...), EOL: eol})
	}
	for _, c := range chunks {
		ls.split(c, emit)
	}
	ls.flush(emit)
	return text, pieces
}

// FuzzLineSplitter: whatever the output and however it arrives, each
// stream gets back exactly its bytes, in order; no line is longer than
// MaxLineLength; and the lines do not depend on how the output was
// chunked or on the other stream.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("a\nbc\n\nd"), []byte("err\npartial"), uint8(3))
	f.Add([]byte("\n\n\n"), []byte(""), uint8(0))
	f.Add(bytes.Repeat([]byte("x"), MaxLineLength+1), []byte("y\n"), uint8(255))
	f.Add(append(bytes.Repeat([]byte("z"), 2*MaxLineLength), '\n'), []byte("\n"), uint8(7))
	f.Fuzz(func(t *testing.T, out, errOut []byte, step uint8) {
		n := int(step) + 1
		// Interleaved: n bytes of stdout, then n bytes of stderr, and so on.
		var mixed []Chunk
		for i := 0; i < max(len(out), len(errOut)); i += n {
			if i < len(out) {
				mixed = append(mixed, Chunk{Stream: Stdout, Data: out[i:min(i+n, len(out))]})
			}
			if i < len(errOut) {
				mixed = append(mixed, Chunk{Stream: Stderr, Data: errOut[i:min(i+n, len(errOut))]})
			}
		}
		text, pieces := splitAll(mixed)
		_, alone := splitAll([]Chunk{{Stream: Stdout, Data: out}, {Stream: Stderr, Data: errOut}})
		for _, s := range []Stream{Stdout, Stderr} {
			want := out
			if s == Stderr {
				want = errOut
			}
			if !bytes.Equal(text[s], want) {
				t.Fatalf("%s came back as %q, want %q", s, text[s], want)
			}
			if len(pieces[s]) != len(alone[s]) {
				t.Fatalf("%s: %d lines in chunks of %d, %d in one chunk", s, len(pieces[s]), n, len(alone[s]))
			}
			for i, l := range pieces[s] {
				if len(l.Text) > MaxLineLength {
					t.Fatalf("%s line %d is %d bytes, over MaxLineLength", s, i, len(l.Text))
				}
				a := alone[s][i]
				if l.EOL != a.EOL || !bytes.Equal(l.Text, a.Text) {
					t.Fatalf("%s line %d: %q (eol %v) in chunks of %d, %q (eol %v) in one chunk", s, i, l.Text, l.EOL, n, a.Text, a.EOL)
				}
			}
		}
	})
}

// FuzzFramedLines: the fast framing of NextFramed gives byte for byte
// what framing each line split emits gives, however the output of both
// streams arrives, markers included.
func FuzzFramedLines(f *testing.F) {
	f.Add([]byte("a\nbc\n\nd"), []byte("err\npartial"), uint8(3), false)
	f.Add(bytes.Repeat([]byte("x\n"), 100), []byte(""), uint8(255), true)
	f.Add(append(bytes.Repeat([]byte("z"), MaxLineLength+3), '\n'), []byte("\n"), uint8(200), false)
	prefix := &LinePrefixes{Stdout: "o:", Stderr: "e:"}
	f.Fuzz(func(t *testing.T, out, errOut []byte, step uint8, marker bool) {
		n := int(step) + 1
		var chunks []Chunk
		for i := 0; i < max(len(out), len(errOut)); i += n {
			if i < len(out) {
				// Long runs, so that long lines reach the fast path whole.
				chunks = append(chunks, Chunk{Stream: Stdout, Data: out[i:min(i+n*300, len(out))]})
				i += n * 299
			}
			if i < len(errOut) {
				chunks = append(chunks, Chunk{Stream: Stderr, Data: errOut[i:min(i+n, len(errOut))]})
			}
			if marker && i == 0 {
				chunks = append(chunks, Chunk{Dropped: 42})
			}
		}
		var fast, slow lineSplitter
		var got, want []byte
		emit := framedEmit(&want, prefix)
		for _, c := range chunks {
			got = fast.appendFramed(got, c, prefix)
			slow.split(c, emit)
		}
		got = fast.appendFlushed(got, prefix)
		slow.flush(emit)
		if !bytes.Equal(got, want) {
			t.Fatalf("framed fast:\n%q\nframed line by line:\n%q", got, want)
		}
	})
}
