package server

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func TestJSONStringWriterMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   string // the decoded string, when it differs from the input
	}{
		{name: "plain", chunks: []string{"hello world"}},
		{name: "escapes", chunks: []string{"a\"b\\c\nd\re\tf\x00g\x1f"}},
		{name: "unicode", chunks: []string{"héllo → 世界 🎉"}},
		{name: "rune split across writes", chunks: []string{"a\xe4\xb8", "\x96b"}, want: "a世b"},
		{name: "emoji split in three", chunks: []string{"\xf0\x9f", "\x8e", "\x89"}, want: "🎉"},
		{name: "invalid byte", chunks: []string{"a\xffb"}, want: "a\ufffdb"},
		{name: "unfinished rune at end", chunks: []string{"ab\xe4\xb8"}, want: "ab\ufffd"},
		{name: "line separators", chunks: []string{"x\u2028y\u2029z"}},
		{name: "empty", chunks: []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			out.WriteByte('"')
			jw := newJSONStringWriter(&out)
			var in string
			for _, c := range tc.chunks {
				in += c
				if _, err := jw.Write([]byte(c)); err != nil {
					t.Fatal(err)
				}
			}
			if err := jw.Close(); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('"')
			var got string
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("not valid JSON %q: %v", out.String(), err)
			}
			want := tc.want
			if want == "" {
				want = in
			}
			if got != want {
				t.Fatalf("decoded %q, want %q", got, want)
			}
		})
	}
}

func TestJSONStringWriterLargeInput(t *testing.T) {
	big := bytes.Repeat([]byte("line \"quoted\" \\ é\n"), 20000)
	var out bytes.Buffer
	out.WriteByte('"')
	jw := newJSONStringWriter(&out)
	for i := 0; i < len(big); i += 4093 { // odd chunk size splits runes
		end := min(i+4093, len(big))
		if _, err := jw.Write(big[i:end]); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('"')
	var got string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != string(big) {
		t.Fatalf("round trip differs: got %d bytes, want %d", len(got), len(big))
	}
}

// TestJSONStringWriterSparseEscapesInLargeWrites: writes several buffers
// long, with quotes and backslashes far apart (each lookup of the next one
// stops at the room left), spelled as encoding/json spells them wherever
// they fall: before, on and after a buffer's end, and past a lookup's window.
func TestJSONStringWriterSparseEscapesInLargeWrites(t *testing.T) {
	for _, at := range []int{0, 1, jsonStringFlushAt - jsonEscapeRoom - 1, jsonStringFlushAt - 2, jsonStringFlushAt - 1,
		jsonStringFlushAt, jsonStringFlushAt + 1, 2*jsonStringFlushAt - 5, 3*jsonStringFlushAt - 1} {
		for _, special := range []string{`"`, `\`, "\n", `"\`, "\u2028"} {
			data := bytes.Repeat([]byte("x"), 5*jsonStringFlushAt)
			copy(data[at:], special)
			copy(data[at+3*jsonStringFlushAt/2:], special) // and one more, a buffer and a half on
			got := writeJSONString(t, [][]byte{data})
			want, err := encodeJSON(string(data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
				t.Fatalf("%q at %d: spelled differently from encoding/json", special, at)
			}
		}
	}
}

// writeSizes records the size of each write it gets.
type writeSizes struct {
	bytes.Buffer
	sizes []int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// TestJSONStringWriterBoundsItsBuffer: one huge write is handed on in
// pieces no larger than the flush size (the buffer never holds the whole
// input), and an empty output writes nothing and allocates no buffer.
func TestJSONStringWriterBoundsItsBuffer(t *testing.T) {
	for _, input := range [][]byte{
		bytes.Repeat([]byte("plain text without escapes "), 40000),
		bytes.Repeat([]byte("a\"b\n"), 100000),
	} {
		var out writeSizes
		jw := newJSONStringWriter(&out)
		if _, err := jw.Write(input); err != nil {
			t.Fatal(err)
		}
		if err := jw.Close(); err != nil {
			t.Fatal(err)
		}
		if cap(jw.buf) > jsonStringFlushAt+8 {
			t.Errorf("buffer grew to %d bytes, want at most %d", cap(jw.buf), jsonStringFlushAt+8)
		}
		for _, n := range out.sizes {
			if n > jsonStringFlushAt {
				t.Fatalf("a write of %d bytes went on, want at most %d", n, jsonStringFlushAt)
			}
		}
		var got string
		if err := json.Unmarshal(append(append([]byte{'"'}, out.Bytes()...), '"'), &got); err != nil || got != string(input) {
			t.Fatalf("round trip: %v, %d bytes, want %d", err, len(got), len(input))
		}
	}
	var out writeSizes
	jw := newJSONStringWriter(&out)
	if err := jw.Close(); err != nil || len(out.sizes) != 0 || jw.buf != nil {
		t.Fatalf("empty output: %v, writes %v, buffer of %d", err, out.sizes, cap(jw.buf))
	}
}

// TestPlainRun: the word-at-a-time scan stops where a byte-at-a-time scan
// does, for every byte value at every place of a run, beside neighbours of
// every kind (borrows must not leak from one byte into the next).
func TestPlainRun(t *testing.T) {
	plain := func(b byte) bool { return b >= 0x20 && b < 0x80 }
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 24, 33} {
		for _, fill := range []byte{'a', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff} {
			for pos := 0; pos < n; pos++ {
				for c := 0; c < 256; c++ {
					p := bytes.Repeat([]byte{fill}, n)
					p[pos] = byte(c)
					want := 0
					for want < n && plain(p[want]) {
						want++
					}
					if got := plainRun(p); got != want {
						t.Fatalf("plainRun(% x) = %d, want %d", p, got, want)
					}
				}
			}
		}
	}
}

// TestJSONStringWriterSmallThenLarge: a writer whose first output was
// short (a small buffer) takes a large write in pieces of at most the
// flush size, and the result decodes to the input.
func TestJSONStringWriterSmallThenLarge(t *testing.T) {
	var out writeSizes
	jw := newJSONStringWriter(&out)
	big := bytes.Repeat([]byte("0123456789abcde\n\"é"), 10000)
	for _, p := range [][]byte{[]byte("a"), big, []byte("z")} {
		if _, err := jw.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range out.sizes {
		if n > jsonStringFlushAt {
			t.Fatalf("a write of %d bytes went on, want at most %d", n, jsonStringFlushAt)
		}
	}
	var got string
	if err := json.Unmarshal(append(append([]byte{'"'}, out.Bytes()...), '"'), &got); err != nil || got != "a"+string(big)+"z" {
		t.Fatalf("round trip: %v, %d bytes", err, len(got))
	}
}

// BenchmarkJSONStringWriterLines: 64 KiB writes of 100-byte lines, as a
// JSON answer that holds a log of such output (GET /process/{id}/logs)
// escapes them; a streamed exec's frames go through appendJSONString.
func BenchmarkJSONStringWriterLines(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	chunk := bytes.Repeat(line, (64<<10)/len(line))
	w := newJSONStringWriter(io.Discard)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONStringChunks: one log chunk of 100-byte lines (32 KiB,
// maxChunk), as a streamed exec's output frame escapes it.
func BenchmarkAppendJSONStringChunks(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	chunk := bytes.Repeat(line, (32<<10)/len(line))
	dst := make([]byte, 0, 2*len(chunk))
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		dst = appendJSONString(dst[:0], chunk)
	}
}
