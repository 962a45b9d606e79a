package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

type lineRec struct {
	Stream Stream
	Text   string
}

func (l lineRec) String() string {
	if len(l.Text) > 40 {
		return fmt.Sprintf("%v:%d bytes", l.Stream, len(l.Text))
	}
	return fmt.Sprintf("%v:%q", l.Stream, l.Text)
}

// readLines reads lr to io.EOF.
func readLines(t *testing.T, lr *LineReader) []lineRec {
	t.Helper()
	ctx := testCtx(t)
	var out []lineRec
	for {
		l, err := lr.Next(ctx, 0)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("LineReader.Next: %v", err)
		}
		out = append(out, lineRec{l.Stream, string(l.Text)})
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name   string
		writes []chunk
		want   []lineRec
	}{
		{"lines", []chunk{{Stream: Stdout, Data: "a\nb\n"}},
			[]lineRec{{Stdout, "a"}, {Stdout, "b"}}},
		{"line split across chunks", []chunk{{Stream: Stdout, Data: "hel"}, {Stream: Stdout, Data: "lo\nwor"}, {Stream: Stdout, Data: "ld\n"}},
			[]lineRec{{Stdout, "hello"}, {Stdout, "world"}}},
		{"partial lines of both streams interleaved", []chunk{
			{Stream: Stdout, Data: "ab"}, {Stream: Stderr, Data: "x"}, {Stream: Stdout, Data: "c\nd"},
			{Stream: Stderr, Data: "y\n"}, {Stream: Stdout, Data: "e\n"},
		}, []lineRec{{Stdout, "abc"}, {Stderr, "xy"}, {Stdout, "de"}}},
		{"final line without newline", []chunk{{Stream: Stdout, Data: "a\nlast"}},
			[]lineRec{{Stdout, "a"}, {Stdout, "last"}}},
		{"final partial lines of both streams", []chunk{{Stream: Stderr, Data: "e"}, {Stream: Stdout, Data: "o"}},
			[]lineRec{{Stdout, "o"}, {Stderr, "e"}}},
		{"empty lines", []chunk{{Stream: Stderr, Data: "\n\n"}},
			[]lineRec{{Stderr, ""}, {Stderr, ""}}},
		{"carriage return kept", []chunk{{Stream: Stdout, Data: "a\r\n"}},
			[]lineRec{{Stdout, "a\r"}}},
		{"no output", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr := finishedLineReader(t, tc.writes)
			if got := readLines(t, lr); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("lines = %v, want %v", got, tc.want)
			}
			// EOF is sticky.
			if _, err := lr.Next(testCtx(t), 0); !errors.Is(err, io.EOF) {
				t.Fatalf("Next after EOF = %v", err)
			}
		})
	}
}

// TestLineReaderLongLines: a line longer than MaxLineLength comes in pieces
// of MaxLineLength and a last, shorter or equal, piece, whatever the
// chunking of the output; a line of at most MaxLineLength comes whole.
func TestLineReaderLongLines(t *testing.T) {
	const max = MaxLineLength
	lengths := []int{0, 1, max - 1, max, max + 1, 2 * max, 2*max + 5, 150000}
	chunkings := []int{1 << 30, maxChunk, 1000, 7919, max - 3}
	for _, n := range lengths {
		for _, step := range chunkings {
			t.Run(fmt.Sprintf("len=%d/chunk=%d", n, step), func(t *testing.T) {
				line := make([]byte, n)
				for i := range line {
					line[i] = 'a' + byte(i%26)
				}
				data := string(line) + "\nnext\n"
				l := newTestLog(t, 64<<20)
				for len(data) > 0 {
					k := min(step, len(data))
					mustAppend(t, l, Stdout, data[:k])
					data = data[k:]
				}
				l.Finish()
				lr := l.NewLineReader()
				defer lr.Close()
				got := readLines(t, lr)

				var want []lineRec
				rest := string(line)
				for len(rest) > max {
					want = append(want, lineRec{Stdout, rest[:max]})
					rest = rest[max:]
				}
				want = append(want, lineRec{Stdout, rest}, lineRec{Stdout, "next"})
				if len(got) != len(want) {
					t.Fatalf("got %d lines %v, want %d %v", len(got), got, len(want), want)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("line %d = %v, want %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

func TestLineReaderLongLineWithoutNewlineAtEOF(t *testing.T) {
	l := newTestLog(t, 64<<20)
	line := strings.Repeat("z", 3*MaxLineLength+10)
	mustAppend(t, l, Stderr, line)
	l.Finish()
	lr := l.NewLineReader()
	defer lr.Close()
	got := readLines(t, lr)
	want := []int{MaxLineLength, MaxLineLength, MaxLineLength, 10}
	if len(got) != len(want) {
		t.Fatalf("got %v, want pieces %v", got, want)
	}
	var joined strings.Builder
	for i, g := range got {
		if len(g.Text) != want[i] || g.Stream != Stderr {
			t.Fatalf("piece %d = %v, want stderr:%d bytes", i, g, want[i])
		}
		joined.WriteString(g.Text)
	}
	if joined.String() != line {
		t.Fatal("pieces do not add up to the line")
	}
}

func TestLineReaderDropMarker(t *testing.T) {
	l := newTestLog(t, 256<<10)
	for i := 0; i < 1000; i++ {
		mustAppend(t, l, Stdout, record(i)) // one line per record
	}
	l.Finish()
	dropped := l.Dropped()
	if dropped == 0 {
		t.Fatal("setup: nothing dropped")
	}
	lr := l.NewLineReader()
	defer lr.Close()
	lines := readLines(t, lr)
	marker := strings.TrimSuffix(DropMarker(dropped), "\n")
	if len(lines) == 0 || lines[0] != (lineRec{Stdout, marker}) {
		t.Fatalf("first line %v, want the drop marker %q", lines[:min(1, len(lines))], marker)
	}
	first := int(dropped / 1000) // markers count output bytes, not framing
	for i, ln := range lines[1:] {
		if want := strings.TrimSuffix(record(first+i), "\n"); ln.Text != want {
			t.Fatalf("line %d after the marker = %.10q..., want %.10q...", i, ln.Text, want)
		}
	}
	if len(lines)-1 != 1000-first {
		t.Fatalf("%d lines after the marker, want %d", len(lines)-1, 1000-first)
	}
}

func TestLineReaderFollow(t *testing.T) {
	l := newTestLog(t, 1<<20)
	lr := l.NewLineReader()
	defer lr.Close()
	ctx := testCtx(t)

	mustAppend(t, l, Stdout, "par")
	// A partial line is held back: the reader goes idle, not short.
	if ln, err := lr.Next(ctx, 20*time.Millisecond); !errors.Is(err, ErrIdle) {
		t.Fatalf("Next with a partial line = %v %q, want ErrIdle", err, ln.Text)
	}
	if _, err := lr.Next(ctx, -1); !errors.Is(err, ErrIdle) {
		t.Fatalf("Next(idle<0) = %v, want ErrIdle", err)
	}
	go func() {
		for !l.isWaiting() {
			time.Sleep(time.Millisecond)
		}
		_, _ = l.Append(Stdout, []byte("tial\nmore\n"))
	}()
	for _, want := range []string{"partial", "more"} {
		ln, err := lr.Next(ctx, 0)
		if err != nil || string(ln.Text) != want {
			t.Fatalf("Next = %q, %v; want %q", ln.Text, err, want)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := lr.Next(cctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context = %v", err)
	}
	mustAppend(t, l, Stderr, "tail")
	l.Finish()
	if ln, err := lr.Next(ctx, 0); err != nil || string(ln.Text) != "tail" || ln.Stream != Stderr {
		t.Fatalf("after Finish: %v %q, %v; want the final partial line", ln.Stream, ln.Text, err)
	}
	if _, err := lr.Next(ctx, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("Next at the end = %v, want io.EOF", err)
	}
}

// TestLineReaderNextFramed: NextFramed over a log gives the lines Next
// gives, each framed as prefix, text and newline, the last partial lines
// included, then io.EOF for good.
func TestLineReaderNextFramed(t *testing.T) {
	long := strings.Repeat("y", MaxLineLength+5)
	tests := []struct {
		name   string
		writes []chunk
		want   string
	}{
		{"lines", []chunk{{Stream: Stdout, Data: "a\nb\n"}}, "o:a\no:b\n"},
		{"partial lines of both streams", []chunk{{Stream: Stdout, Data: "ab"}, {Stream: Stderr, Data: "x\ny"}, {Stream: Stdout, Data: "c\nd"}},
			"e:x\no:abc\no:d\ne:y\n"},
		{"long line in pieces", []chunk{{Stream: Stderr, Data: long + "\nz\n"}},
			"e:" + long[:MaxLineLength] + "\ne:yyyyy\ne:z\n"},
		{"empty lines", []chunk{{Stream: Stdout, Data: "\n\n"}}, "o:\no:\n"},
		{"no output", nil, ""},
	}
	prefix := &LinePrefixes{Stdout: "o:", Stderr: "e:"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr := finishedLineReader(t, tc.writes)
			ctx := testCtx(t)
			var got []byte
			var err error
			for err == nil {
				got, err = lr.NextFramed(ctx, 0, got, prefix)
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("NextFramed: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("framed %q, want %q", got, tc.want)
			}
			if _, err := lr.NextFramed(ctx, 0, nil, prefix); !errors.Is(err, io.EOF) {
				t.Fatalf("NextFramed after EOF = %v", err)
			}
		})
	}
}

// finishedLineReader is a line reader over a finished log of writes
// (appendAll), closed with the test.
func finishedLineReader(t *testing.T, writes []chunk) *LineReader {
	t.Helper()
	lr := appendAll(t, writes).NewLineReader()
	t.Cleanup(lr.Close)
	return lr
}
