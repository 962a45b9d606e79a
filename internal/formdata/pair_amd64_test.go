//go:build amd64 && !purego

package formdata

import (
	"os"
	"syscall"
	"testing"
)

// indexPairAVX2 never reads past its slice: each slice here ends where an
// unreadable page starts, so one byte too many is a fault, whatever the
// length (around the 32-byte steps) and wherever the pair is.
func TestIndexPairStaysInsideTheSlice(t *testing.T) {
	page := os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= 300; n++ {
		b := mem[page-n : page]
		cases := []struct {
			name string
			fill func()
			want int
		}{
			{"no pair", func() {}, -1},
			{"c0 last", func() { b[n-1] = '\r' }, -1},
			{"pair last", func() { b[n-2], b[n-1] = '\r', '\n' }, n - 2},
		}
		for _, c := range cases {
			if (c.name == "c0 last" && n < 1) || (c.name == "pair last" && n < 2) {
				continue
			}
			for i := range b {
				b[i] = 'x'
			}
			c.fill()
			if got := indexPairAVX2(b, '\r', '\n'); got != c.want {
				t.Errorf("%d bytes, %s: %d, want %d", n, c.name, got, c.want)
			}
		}
	}
}
