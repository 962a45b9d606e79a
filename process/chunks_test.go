package process

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// readAllChunks follows cr to io.EOF and returns copies of its chunks.
func readAllChunks(t *testing.T, cr *ChunkReader) []chunk {
	t.Helper()
	ctx := testCtx(t)
	var out []chunk
	for {
		c, err := cr.Next(ctx, 0)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, chunk{Stream: c.Stream, Data: string(c.Data)})
	}
}

// appendAll writes each chunk to a fresh log as one append (one pipe read)
// and finishes it.
func appendAll(t *testing.T, in []chunk) *Log {
	t.Helper()
	l := newTestLog(t, 1<<30)
	for _, c := range in {
		mustAppend(t, l, c.Stream, c.Data)
	}
	l.Finish()
	return l
}

func TestChunkReaderFrames(t *testing.T) {
	out := func(s string) chunk { return chunk{Stream: Stdout, Data: s} }
	errc := func(s string) chunk { return chunk{Stream: Stderr, Data: s} }
	for _, tc := range []struct {
		name     string
		appended []chunk
		want     []chunk
	}{
		{"reads as they came, newlines kept", []chunk{out("a\nb"), out("c\n")}, []chunk{out("a\nb"), out("c\n")}},
		{"empty lines", []chunk{out("\n\n"), out("x\n\n")}, []chunk{out("\n\n"), out("x\n\n")}},
		{"no final newline", []chunk{out("a\nbb\n"), out("ccc"), out("tail")}, []chunk{out("a\nbb\n"), out("ccc"), out("tail")}},
		{"arrival order across streams", []chunk{out("o1"), errc("e1\n"), out("o2\n"), errc("e2")}, []chunk{out("o1"), errc("e1\n"), out("o2\n"), errc("e2")}},
		{"two-byte character split", []chunk{out("h\xc3"), out("\xa9!")}, []chunk{out("h"), out("é!")}},
		{"four-byte character in three reads", []chunk{out("\xf0"), out("\x9f\x98"), out("\x80.")}, []chunk{out("😀.")}},
		{"carry waits while the other stream goes by", []chunk{out("x\xe2\x82"), errc("e"), out("\xac")}, []chunk{out("x"), errc("e"), out("€")}},
		{"incomplete character at the end", []chunk{out("a\xe2\x82")}, []chunk{out("a"), out("\xe2\x82")}},
		{"both streams incomplete at the end", []chunk{errc("\xc3"), out("\xe2")}, []chunk{out("\xe2"), errc("\xc3")}},
		{"bytes that are not UTF-8 pass", []chunk{out("\xff\xfe\n"), out("\xe2\x28")}, []chunk{out("\xff\xfe\n"), out("\xe2\x28")}},
		{"a carry that is not completed", []chunk{out("\xe2"), out("A")}, []chunk{out("\xe2A")}},
		{"stray continuation bytes pass", []chunk{out("a\x80\x80\x80")}, []chunk{out("a\x80\x80\x80")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := appendAll(t, tc.appended).NewChunkReader()
			defer cr.Close()
			if got := readAllChunks(t, cr); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("chunks %v, want %v", got, tc.want)
			}
		})
	}
}

// TestChunkReaderLargeReads: a read larger than a log record comes back in
// bounded chunks that never cut a character, and nothing is lost.
func TestChunkReaderLargeReads(t *testing.T) {
	for _, text := range []string{
		strings.Repeat("x", 100<<10),
		"a" + strings.Repeat("é", 60<<10), // odd offset: record ends fall inside characters
		"ab" + strings.Repeat("😀", 30<<10),
	} {
		cr := appendAll(t, []chunk{{Stream: Stdout, Data: text}}).NewChunkReader()
		got := readAllChunks(t, cr)
		cr.Close()
		var joined strings.Builder
		for i, c := range got {
			if len(c.Data) > MaxChunkData || len(c.Data) == 0 {
				t.Fatalf("chunk %d is %d bytes, want 1 to %d", i, len(c.Data), MaxChunkData)
			}
			if !utf8.ValidString(c.Data) {
				t.Fatalf("chunk %d of valid UTF-8 output cuts a character: ends %q", i, c.Data[max(0, len(c.Data)-4):])
			}
			joined.WriteString(c.Data)
		}
		if len(got) < 2 || joined.String() != text {
			t.Errorf("%d chunks joined to %d bytes, want several chunks giving the %d bytes written", len(got), joined.Len(), len(text))
		}
	}
}

// TestChunkReaderDropMarker: output a cap removed before the reader got to
// it comes as the marker line, on a line of its own, after what the stream
// held back.
func TestChunkReaderDropMarker(t *testing.T) {
	l := newTestLog(t, 256<<10)
	mustAppend(t, l, Stdout, "ab\xc3")
	cr := l.NewChunkReader()
	defer cr.Close()
	ctx := testCtx(t)
	c, err := cr.Next(ctx, 0)
	if err != nil || c.Stream != Stdout || string(c.Data) != "ab" {
		t.Fatalf("first chunk %v:%q (%v), want stdout:\"ab\"", c.Stream, c.Data, err)
	}
	for i := 0; i < 1000; i++ {
		mustAppend(t, l, Stdout, record(i))
	}
	l.Finish()
	dropped := l.Dropped()
	if dropped == 0 {
		t.Fatal("the cap dropped nothing")
	}
	got := readAllChunks(t, cr)
	// The marker counts what this reader missed: not the 3 bytes it read.
	want := []chunk{{Stream: Stdout, Data: "\xc3"}, {Stream: Stdout, Data: "\n" + DropMarker(dropped-3)}}
	if len(got) < 3 || fmt.Sprint(got[:2]) != fmt.Sprint(want) {
		t.Fatalf("after the drop: %v..., want %v then the kept records", got[:min(2, len(got))], want)
	}
}

func TestIncompleteTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 0}, {"é", 0}, {"a\xc3", 1}, {"\xe2\x82", 2}, {"\xf0\x9f\x98", 3},
		{"😀", 0}, {"\xe2\x28", 0}, {"\xff", 0}, {"\xc0", 0}, {"\x80\x80\x80", 0}, {"\xe0\x80", 0},
	} {
		if got := incompleteTail([]byte(tc.in)); got != tc.want {
			t.Errorf("incompleteTail(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzChunkReader: however the two streams' output arrives, joining each
// stream's chunks gives its bytes exactly; chunks are bounded and never
// empty; and no chunk ends inside a valid character that the stream's next
// bytes complete.
func FuzzChunkReader(f *testing.F) {
	f.Add([]byte("a\nb\n\nc"), []byte("err\npartial"), uint8(0))
	f.Add([]byte("é😀€"), []byte("\xe2\x82\xac\xff"), uint8(1))
	f.Add([]byte("\xf0\x9f"), []byte("\xc3"), uint8(2))
	f.Add(bytes.Repeat([]byte("é"), maxChunk), []byte("\n"), uint8(254))
	f.Fuzz(func(t *testing.T, out, errOut []byte, step uint8) {
		n := int(step) + 1
		if step == 255 {
			n = 3 * maxChunk // reads larger than a record
		}
		var in []chunk
		for i := 0; i < max(len(out), len(errOut)); i += n {
			if i < len(out) {
				in = append(in, chunk{Stream: Stdout, Data: string(out[i:min(i+n, len(out))])})
			}
			if i < len(errOut) {
				in = append(in, chunk{Stream: Stderr, Data: string(errOut[i:min(i+n, len(errOut))])})
			}
		}
		cr := appendAll(t, in).NewChunkReader()
		defer cr.Close()
		got := readAllChunks(t, cr)
		var joined [Both + 1][]byte
		for i, c := range got {
			if len(c.Data) == 0 || len(c.Data) > MaxChunkData {
				t.Fatalf("chunk %d is %d bytes, want 1 to %d", i, len(c.Data), MaxChunkData)
			}
			joined[c.Stream] = append(joined[c.Stream], c.Data...)
			// The character that starts in this chunk's last bytes must
			// not be a valid one that continues past it.
			s := joined[c.Stream]
			if m := incompleteTail([]byte(c.Data)); m > 0 {
				all := out
				if c.Stream == Stderr {
					all = errOut
				}
				if r, size := utf8.DecodeRune(all[len(s)-m:]); r != utf8.RuneError && size > m {
					t.Fatalf("chunk %d (%s) cuts %q in two: ends %q", i, c.Stream, r, c.Data)
				}
			}
		}
		if !bytes.Equal(joined[Stdout], out) || !bytes.Equal(joined[Stderr], errOut) {
			t.Fatalf("joined stdout %q, stderr %q; want %q, %q", joined[Stdout], joined[Stderr], out, errOut)
		}
	})
}
