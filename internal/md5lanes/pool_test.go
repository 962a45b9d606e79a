package md5lanes

import (
	"crypto/md5"
	"crypto/sha1"
	"fmt"
	"hash"
	"math/rand/v2"
	"runtime"
	"slices"
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

// Streams whose chunks wait together are hashed by the kernel, each lane
// from its own state and bytes: the hasher is run here, once every stream
// has queued its chunks, so that the lanes are filled whatever the
// scheduler does. Eleven streams: eight lanes, then the rest.
func TestPoolHashesWaitingStreamsInLanes(t *testing.T) {
	pool := heldPool(t)
	const streams = 11
	hs := make([]hash.Hash, streams)
	data := make([][]byte, streams)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range streams {
		data[i] = make([]byte, chunkSize+(i+1)*4096+i) // two chunks and a carry
		for j := range data[i] {
			data[i][j] = byte(rng.Uint32())
		}
		hs[i] = pool.New()
		hs[i].Write(data[i])
	}
	pool.hashLoop()
	if pool.passes.Load() == 0 {
		t.Fatal("no pass of the lane kernel")
	}
	for i := range streams {
		if got, want := hs[i].Sum(nil), md5.Sum(data[i]); string(got) != string(want[:]) {
			t.Errorf("stream %d: sum %x, want %x", i, got, want)
		}
	}
}

// heldPool is a pool whose hasher does not start: the test queues its
// streams' chunks, then runs the hasher itself (hashLoop), so that what
// waits together is known whatever the scheduler does. It has room for
// two chunks of sixteen streams.
func heldPool(t *testing.T) *Pool {
	t.Helper()
	if !lanesWork() {
		t.Skip("this CPU has no AVX-512F and AVX-512VL") // a platform fact, not a result
	}
	pool := NewPool()
	pool.maxBuffers = 32
	pool.running = true // enqueue starts no hasher
	return pool
}

// Streams take turns at the lanes: a ninth stream waiting is hashed before
// the eight under way go on with their next chunks.
func TestPoolStreamsTakeTurns(t *testing.T) {
	pool := heldPool(t)
	var idle []int
	ids := map[*stream]int{}
	pool.idled = func(s *stream) { idle = append(idle, ids[s]) }
	data := make([]byte, 2*chunkSize)
	for i := range 9 {
		h := pool.New()
		ids[h.(*stream)] = i
		if i < 8 {
			h.Write(data) // two chunks
		} else {
			h.Write(data[:chunkSize]) // one
		}
	}
	pool.hashLoop()
	ninth, eighth := slices.Index(idle, 8), slices.Index(idle, 7)
	if ninth < 0 || eighth < 0 || ninth > eighth {
		t.Errorf("streams went idle in the order %v: the ninth (8) waited behind the others' second chunks", idle)
	}
}

// A large write is copied into the pool's buffers a chunk at a time, never
// whole.
func TestPoolCopiesInBoundedChunks(t *testing.T) {
	pool := NewPool()
	h := pool.New()
	data := make([]byte, 32<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.Write(data)
	h.Sum(nil)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(data)/2) {
		t.Errorf("a write of %d bytes allocated %d bytes", len(data), got)
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
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := make([]byte, 2<<20)
			rng := rand.New(rand.NewPCG(9, uint64(i)))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			h := pool.New()
			for off := 0; off < len(data); off += 300 << 10 {
				h.Write(data[off:min(off+300<<10, len(data))])
				pool.mu.Lock()
				if pool.inUse > maxBuffers {
					t.Errorf("%d buffers in use, over %d", pool.inUse, maxBuffers)
				}
				if s, ok := h.(*stream); ok && len(s.chunks) > perStream {
					t.Errorf("a stream has %d chunks waiting, over %d", len(s.chunks), perStream)
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
