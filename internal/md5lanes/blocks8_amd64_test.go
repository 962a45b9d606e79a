//go:build amd64 && !purego

package md5lanes

import (
	"crypto/md5"
	"math/rand/v2"
	"testing"
)

// compressAlone runs crypto/md5's compression over data from st.
func compressAlone(t *testing.T, st state, data []byte) state {
	t.Helper()
	var scratch [stateSize]byte
	h := md5.New()
	if err := importState(h, st, &scratch); err != nil {
		t.Fatal(err)
	}
	h.Write(data)
	out, ok := exportState(h, &scratch)
	if !ok {
		t.Fatal("crypto/md5's state cannot be read back")
	}
	return out
}

// Each of the eight lanes, from its own state and its own bytes, ends
// where crypto/md5 alone ends.
func TestBlocks8MatchesCryptoMD5(t *testing.T) {
	if !lanesWork() {
		t.Skip("this CPU has no AVX-512F and AVX-512VL") // a platform fact, not a result
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 17, 64} {
		var st [4][8]uint32
		var lanes [8]*byte
		data := make([][]byte, 8)
		starts := make([]state, 8)
		for l := range 8 {
			data[l] = make([]byte, n*64+1) // +1: a pointer exists for n == 0
			for i := range data[l] {
				data[l][i] = byte(rng.Uint32())
			}
			lanes[l] = &data[l][0]
			for w := range 4 {
				starts[l].s[w] = rng.Uint32()
				st[w][l] = starts[l].s[w]
			}
		}
		blocks8(&st, &lanes, n)
		for l := range 8 {
			want := compressAlone(t, starts[l], data[l][:n*64])
			got := [4]uint32{st[0][l], st[1][l], st[2][l], st[3][l]}
			if got != want.s {
				t.Errorf("%d blocks, lane %d: state %08x, crypto/md5 %08x", n, l, got, want.s)
			}
		}
	}
}

// The lane kernel beside its physical baseline, crypto/md5 on one stream
// of the same bytes: per 64-byte block of one lane, and per pass of all
// eight lanes.
func BenchmarkBlocks8(b *testing.B) {
	if !lanesWork() {
		b.Skip("this CPU has no AVX-512F and AVX-512VL")
	}
	const blocks = 4096 // 256 KiB per lane, a streamed write's chunk
	data := make([]byte, blocks*64)
	var st [4][8]uint32
	var lanes [8]*byte
	for l := range lanes {
		lanes[l] = &data[0]
	}
	b.Run("crypto-md5-one-stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		h := md5.New()
		for b.Loop() {
			h.Write(data)
		}
	})
	b.Run("eight-lanes", func(b *testing.B) {
		b.SetBytes(int64(8 * len(data)))
		for b.Loop() {
			blocks8(&st, &lanes, blocks)
		}
	})
}
