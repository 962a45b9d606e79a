package formdata

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// indexDelim agrees with bytes.Index, and indexPair with its generic
// form, on every length around the vector's width and every place of the
// pair and the delimiter: first, last, split across a 32-byte step, alone
// or after false starts.
func TestIndexDelimMatchesBytesIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	delims := [][]byte{[]byte("\r\n--boundary"), []byte("\n--X"), []byte("\r\n")}
	alphabet := []byte("\r\n-boundaryX") // false starts are frequent
	for n := 0; n < 200; n++ {
		for trial := 0; trial < 30; trial++ {
			b := make([]byte, n)
			for i := range b {
				if trial%2 == 0 {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				} else {
					b[i] = byte(rng.Uint32())
				}
			}
			for _, d := range delims {
				if n >= len(d) && trial%3 == 0 {
					copy(b[rng.IntN(n-len(d)+1):], d)
				}
				if got, want := indexDelim(b, d), bytes.Index(b, d); got != want {
					t.Fatalf("indexDelim(%q, %q) = %d, bytes.Index %d", b, d, got, want)
				}
				if got, want := indexPair(b, d[0], d[1]), indexPairGeneric(b, d[0], d[1]); got != want {
					t.Fatalf("indexPair(%q, %q) = %d, generic %d", b, d[:2], got, want)
				}
			}
		}
	}
}

// FuzzIndexDelim compares indexDelim with bytes.Index on any bytes.
func FuzzIndexDelim(f *testing.F) {
	f.Add([]byte("abc\r\n--boundary\r\n"), []byte("\r\n--boundary"))
	f.Add(bytes.Repeat([]byte("\r\n-"), 40), []byte("\r\n--"))
	f.Fuzz(func(t *testing.T, b, d []byte) {
		if len(d) < 2 {
			return
		}
		if got, want := indexDelim(b, d), bytes.Index(b, d); got != want {
			t.Fatalf("indexDelim(%q, %q) = %d, bytes.Index %d", b, d, got, want)
		}
	})
}

// The search of a field's end in random bytes, beside bytes.Index.
func BenchmarkIndexDelim(b *testing.B) {
	data := make([]byte, 256<<10)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	delim := []byte("\r\n--X-BOUNDARY-0123456789abcdef")
	b.Run("bytes.Index", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			bytes.Index(data, delim)
		}
	})
	b.Run("indexDelim", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			indexDelim(data, delim)
		}
	})
}
