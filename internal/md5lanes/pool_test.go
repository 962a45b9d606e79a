package md5lanes

import (
	"crypto/md5"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// Streams written at the same time through one pool, in pieces of every
// size (under a block, around minPooled, many blocks, with odd ends), each
// sum as crypto/md5 alone gives it.
func TestPoolSumsMatchCryptoMD5(t *testing.T) {
	for _, streams := range []int{1, 2, 3, 8, 13} {
		t.Run(fmt.Sprintf("%d streams", streams), func(t *testing.T) {
			pool := NewPool()
			var wg sync.WaitGroup
			errs := make(chan error, streams)
			for s := range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(streams), uint64(s)))
					h, whole := pool.New(), md5.New()
					for range 24 {
						piece := make([]byte, pieceSize(rng))
						for i := range piece {
							piece[i] = byte(rng.Uint32())
						}
						if n, err := h.Write(piece); n != len(piece) || err != nil {
							errs <- fmt.Errorf("stream %d: Write = %d, %v", s, n, err)
							return
						}
						whole.Write(piece)
					}
					if got, want := h.Sum(nil), whole.Sum(nil); string(got) != string(want) {
						errs <- fmt.Errorf("stream %d: sum %x, crypto/md5 %x", s, got, want)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func pieceSize(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return rng.IntN(64)
	case 1:
		return minPooled - 64 + rng.IntN(128)
	case 2:
		return 256 << 10
	default:
		return rng.IntN(300 << 10)
	}
}

// When streams come together, the lanes hash them (where the CPU has the
// kernel): the test above must not pass through crypto/md5 alone.
func TestPoolUsesTheLanesWhenStreamsMeet(t *testing.T) {
	if !lanesWork() {
		t.Skip("this CPU has no AVX-512F and AVX-512VL") // a platform fact, not a result
	}
	pool := NewPool()
	data := make([]byte, 4<<20)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := pool.New()
			<-start
			for off := 0; off < len(data); off += 256 << 10 {
				h.Write(data[off : off+256<<10])
			}
		}()
	}
	close(start)
	wg.Wait()
	if pool.passes.Load() == 0 {
		t.Error("four streams of 4 MiB at once: no pass of the lane kernel")
	}
}

// A state in another format is refused, not misread: the stream is then
// hashed by its own digest.
func TestExportStateRefusesOtherHashes(t *testing.T) {
	var scratch [stateSize]byte
	if _, ok := exportState(sha1.New(), &scratch); ok {
		t.Error("exportState read a SHA-1 digest as an MD5 state")
	}
	h := md5.New()
	h.Write([]byte("not a whole block"))
	if _, ok := exportState(h, &scratch); ok {
		t.Error("exportState took a state between two block boundaries")
	}
}

// Sum in the middle of a stream changes nothing, and Reset starts a new
// one, whatever the pool still had of the old.
func TestPoolDigestSumAndReset(t *testing.T) {
	pool := NewPool()
	h := pool.New()
	data := make([]byte, 600<<10+7)
	for i := range data {
		data[i] = byte(i * 7)
	}
	h.Write(data[:300<<10+3])
	if got, want := h.Sum(nil), md5.Sum(data[:300<<10+3]); string(got) != string(want[:]) {
		t.Errorf("sum of the first part: %x, want %x", got, want)
	}
	h.Write(data[300<<10+3:])
	if got, want := h.Sum(nil), md5.Sum(data); string(got) != string(want[:]) {
		t.Errorf("sum after a Sum and more bytes: %x, want %x", got, want)
	}
	h.Write(data) // left to the pool, then dropped
	h.Reset()
	h.Write(data[:100<<10])
	if got, want := h.Sum(nil), md5.Sum(data[:100<<10]); string(got) != string(want[:]) {
		t.Errorf("sum after Reset: %x, want %x", got, want)
	}
}

// However many streams write at once, the pool holds at most maxBuffers
// buffers with chunks, and no goroutine once it has nothing left to hash.
func TestPoolMemoryIsBounded(t *testing.T) {
	pool := NewPool()
	data := make([]byte, 2<<20)
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := pool.New()
			for off := 0; off < len(data); off += 300 << 10 {
				h.Write(data[off:min(off+300<<10, len(data))])
				pool.mu.Lock()
				if pool.inUse > maxBuffers {
					t.Errorf("%d buffers in use, over %d", pool.inUse, maxBuffers)
				}
				pool.mu.Unlock()
			}
			if got, want := h.Sum(nil), md5.Sum(data); string(got) != string(want[:]) {
				t.Errorf("sum %x, want %x", got, want)
			}
		}()
	}
	wg.Wait()
	testsupport.Eventually(t, func() (bool, string) {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		return !pool.running && pool.inUse == 0,
			fmt.Sprintf("idle pool: running %v, %d buffers in use", pool.running, pool.inUse)
	})
}
