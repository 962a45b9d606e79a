package server

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// failingWriter fails every write after the first ok ones.
type failingWriter struct {
	writeSizes
	ok int
}

var errClientGone = errors.New("client gone")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(w.sizes) >= w.ok {
		return 0, errClientGone
	}
	return w.writeSizes.Write(p)
}

// TestStreamBuffer: small writes wait for a flush or a full buffer, a
// write larger than the buffer goes straight through once what was
// buffered went out, Append flushes at streamBufferSize, and the order of
// the bytes is kept.
func TestStreamBuffer(t *testing.T) {
	big := bytes.Repeat([]byte("b"), streamBufferSize+1)
	fill := strings.Repeat("f", streamBufferSize-10)
	tests := []struct {
		name  string
		do    func(b *streamBuffer)
		sizes []int  // the writes that reached the client, before the final Flush
		want  string // all that reached it after the Flush
	}{
		{"small writes wait", func(b *streamBuffer) {
			_, _ = b.Write([]byte("ab"))
			_, _ = b.WriteString("cd")
		}, nil, "abcd"},
		{"a large write after a small one", func(b *streamBuffer) {
			_, _ = b.WriteString("ab")
			_, _ = b.Write(big)
		}, []int{2, len(big)}, "ab" + string(big)},
		{"a write that does not fit flushes first", func(b *streamBuffer) {
			_, _ = b.WriteString(fill)
			_, _ = b.WriteString("0123456789x")
		}, []int{len(fill)}, fill + "0123456789x"},
		{"append flushes at the buffer size", func(b *streamBuffer) {
			_ = b.Append(len(fill), func(dst []byte) []byte { return append(dst, fill...) })
			_ = b.Append(10, func(dst []byte) []byte { return append(dst, "0123456789"...) })
		}, []int{streamBufferSize}, fill + "0123456789"},
		{"append flushes first when it needs more room than is left", func(b *streamBuffer) {
			_ = b.Append(len(fill), func(dst []byte) []byte { return append(dst, fill...) })
			_ = b.Append(11, func(dst []byte) []byte { return append(dst, "0123456789x"...) })
		}, []int{len(fill)}, fill + "0123456789x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out writeSizes
			b := newStreamBuffer(&out)
			tc.do(b)
			if len(out.sizes) != len(tc.sizes) {
				t.Fatalf("writes %v before the flush, want %v", out.sizes, tc.sizes)
			}
			for i := range tc.sizes {
				if out.sizes[i] != tc.sizes[i] {
					t.Fatalf("writes %v before the flush, want %v", out.sizes, tc.sizes)
				}
			}
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
			if cap(b.buf) > streamBufferSize {
				t.Fatalf("the buffer grew to %d bytes", cap(b.buf))
			}
			if out.String() != tc.want {
				t.Fatalf("the client got %d bytes, want %d in order", out.Len(), len(tc.want))
			}
		})
	}
}

// TestStreamBufferKeepsTheFirstError: once a write to the client failed,
// every later call fails with that error and nothing more is written.
func TestStreamBufferKeepsTheFirstError(t *testing.T) {
	w := &failingWriter{ok: 0}
	b := newStreamBuffer(w)
	if _, err := b.WriteString("a"); err != nil {
		t.Fatalf("a buffered write failed: %v", err)
	}
	if err := b.Flush(); !errors.Is(err, errClientGone) {
		t.Fatalf("Flush = %v, want the client's error", err)
	}
	if _, err := b.Write([]byte("b")); !errors.Is(err, errClientGone) {
		t.Fatalf("Write after the error = %v", err)
	}
	if err := b.Append(1, func(dst []byte) []byte { return append(dst, 'c') }); !errors.Is(err, errClientGone) {
		t.Fatalf("Append after the error = %v", err)
	}
	if len(w.sizes) != 0 {
		t.Fatalf("%d writes reached the client", len(w.sizes))
	}
}

// TestStreamBufferGrowsWithWhatIsReady: small writes keep a small buffer;
// a backlog grows it, doubling, to streamBufferSize and no further.
func TestStreamBufferGrowsWithWhatIsReady(t *testing.T) {
	var out writeSizes
	b := newStreamBuffer(&out)
	line := strings.Repeat("l", 1000)
	for range 10 {
		_, _ = b.WriteString(line)
		_ = b.Flush() // a stream that keeps up flushes as it waits
	}
	if cap(b.buf) != streamBufferStart {
		t.Fatalf("a stream that keeps up holds %d bytes, want %d", cap(b.buf), streamBufferStart)
	}
	for range 3 * streamBufferSize / len(line) {
		_, _ = b.WriteString(line)
	}
	if cap(b.buf) != streamBufferSize {
		t.Fatalf("a backlog grew the buffer to %d bytes, want %d", cap(b.buf), streamBufferSize)
	}
	for i, n := range out.sizes[10:] {
		if n > streamBufferSize || n < streamBufferSize-len(line) {
			t.Fatalf("write %d of the backlog was %d bytes, want about %d", i, n, streamBufferSize)
		}
	}
}
