package md5lanes

import (
	"crypto/md5"
	"hash"
	"sync"
	"sync/atomic"
)

const (
	// chunkSize is one buffer of the pool: a streamed write's piece.
	chunkSize = 256 << 10
	// maxBuffers bounds the pool's memory (4 MiB), whatever the number
	// of streams; a stream that finds none free hashes where it is.
	maxBuffers = 16
	// perStream is how many chunks of one stream may wait at once: its
	// next writes are read while the last ones are hashed. Four, not two:
	// a writer then waits for the hasher half as often, and the three
	// parts the SDK sends at once are more often in the lanes together.
	// A scratch client sending the benchmark's parts read 9-11% faster,
	// with 40-60 ms less daemon CPU per 256 MiB; the benchmark's own
	// rounds could not tell it from noise (docs/measured.md). The buffers
	// stay bounded by maxBuffers.
	perStream = 4
	// laneSlice bounds one pass of the kernel (8 KiB of each lane):
	// between two passes a stream that arrived joins, one done leaves.
	laneSlice = 128
	// aloneSlice is what the hasher gives a stream alone to crypto/md5
	// at once, before it looks for company again.
	aloneSlice = 32 << 10
	// minPooled is the smallest write worth the pool (a copy and a trip
	// to the hasher); smaller ones are hashed where they are.
	minPooled = 16 << 10
)

// Pool hashes the large writes of its digests on one goroutine of its
// own, the streams that have bytes waiting at the same time together, one
// per lane of the kernel (see the package doc). The zero value is not
// ready: use NewPool.
type Pool struct {
	mu      sync.Mutex
	changed sync.Cond // a chunk was hashed: a buffer is free, a stream may be idle
	queue   []*stream // streams with chunks waiting for a lane
	running bool      // the hasher goroutine runs
	inUse   int       // buffers holding a chunk, at most maxBuffers
	// maxBuffers is the const, in a field so that tests may raise it.
	maxBuffers int
	// free keeps the buffers between chunks; the garbage collector takes
	// them back from a pool left idle, so it holds no memory then.
	free sync.Pool

	// The hasher's own, but for lanes' length, which takeChunk reads:
	// the hasher changes it under mu.
	lanes []lane
	state [4][8]uint32
	ptrs  [8]*byte

	// passes counts the kernel's passes, for tests and benchmarks.
	passes atomic.Int64
	// idled, for tests, is called (under mu) when a stream has no chunk
	// left waiting.
	idled func(*stream)
}

// NewPool returns a pool with no buffer yet and no goroutine.
func NewPool() *Pool {
	p := &Pool{maxBuffers: maxBuffers}
	p.changed.L = &p.mu
	return p
}

// lane is a stream under way in the hasher, and the chunk it hashes.
type lane struct {
	s *stream
	c *chunk
}

// chunk is whole blocks of a stream, copied into a buffer of the pool.
type chunk struct {
	buf  []byte
	data []byte // what is left to hash, at the end of buf's bytes
}

// stream is one digest's state. st, h and engine are its writer's while
// no chunk of it waits, the hasher's while one does (p.mu orders the two);
// carry is always the writer's.
type stream struct {
	p      *Pool
	h      hash.Hash       // crypto/md5: the engine for a stream alone, and Sum
	st     state           // the state after the bytes before carry
	carry  []byte          // the bytes after the last whole block (under 64)
	chunks []*chunk        // waiting to be hashed, oldest first; under p.mu
	queued bool            // in p.queue or a lane; under p.mu
	engine [stateSize]byte // scratch for moving st in and out of h
}

// New returns an MD5 digest (hash.Hash) whose large writes are hashed by
// the pool. It is not safe for concurrent use, as no hash.Hash is.
func (p *Pool) New() hash.Hash {
	if !lanesWork() {
		return md5.New() // no kernel: nothing to share
	}
	s := &stream{p: p, h: md5.New(), carry: make([]byte, 0, 64)}
	st, ok := exportState(s.h, &s.engine)
	if !ok {
		return s.h // a state format this package does not know: crypto/md5 alone
	}
	s.st = st
	return s
}

func (s *stream) Size() int      { return md5.Size }
func (s *stream) BlockSize() int { return md5.BlockSize }

func (s *stream) Reset() {
	s.waitIdle()
	s.h.Reset()
	s.st, _ = exportState(s.h, &s.engine)
	s.carry = s.carry[:0]
}

// Sum appends the MD5 of the bytes written so far, once the pool hashed
// them all, and changes nothing.
func (s *stream) Sum(in []byte) []byte {
	s.waitIdle()
	s.load()
	s.h.Write(s.carry)
	return s.h.Sum(in)
}

// Write hashes b. A large write goes through the pool and returns once it
// is copied there; the others are hashed at once.
func (s *stream) Write(b []byte) (int, error) {
	total := len(b)
	if len(s.carry)+len(b) < 64 {
		s.carry = append(s.carry, b...)
		return total, nil
	}
	if len(b) < minPooled {
		s.waitIdle()
		s.hashHere(b)
		return total, nil
	}
	for len(s.carry)+len(b) >= 64 {
		c := s.p.takeChunk(s)
		if c == nil { // no buffer free, and nothing of s waits
			s.hashHere(b)
			return total, nil
		}
		whole := min(len(s.carry)+len(b), chunkSize) &^ 63
		c.data = append(append(c.buf[:0], s.carry...), b[:whole-len(s.carry)]...)
		b = b[whole-len(s.carry):]
		s.carry = s.carry[:0]
		s.p.enqueue(s, c)
	}
	s.carry = append(s.carry, b...)
	return total, nil
}

// hashHere runs carry and b through crypto/md5 on this goroutine; no
// chunk of s may wait.
func (s *stream) hashHere(b []byte) {
	whole := (len(s.carry) + len(b)) &^ 63
	s.load()
	s.h.Write(s.carry)
	s.h.Write(b[:whole-len(s.carry)])
	s.st, _ = exportState(s.h, &s.engine) // at a block boundary: whole bytes went in
	s.carry = append(s.carry[:0], b[whole-len(s.carry):]...)
}

// load makes st the state of the engine h.
func (s *stream) load() {
	if err := importState(s.h, s.st, &s.engine); err != nil {
		panic("md5lanes: crypto/md5 refused a state it wrote: " + err.Error())
	}
}

// waitIdle returns once no chunk of s waits: st is then the writer's.
func (s *stream) waitIdle() {
	s.p.mu.Lock()
	for len(s.chunks) > 0 {
		s.p.changed.Wait()
	}
	s.p.mu.Unlock()
}

// takeChunk returns a free buffer for s, waiting while s has perStream
// chunks waiting or while none is free and s has one waiting. It returns
// nil, and s hashes where it is, when s has none waiting and either no
// buffer is free or the hasher already has eight streams in its lanes and
// eight more waiting: one goroutine hashes at most eight streams at a
// time, and more streams than that are better spread over the other
// cores.
func (p *Pool) takeChunk(s *stream) *chunk {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		mine := len(s.chunks)
		if mine == 0 && len(p.lanes)+len(p.queue) >= 2*len(p.ptrs) {
			return nil
		}
		if mine < perStream && p.inUse < p.maxBuffers {
			p.inUse++
			if buf, ok := p.free.Get().(*[]byte); ok {
				return &chunk{buf: *buf}
			}
			return &chunk{buf: make([]byte, chunkSize)}
		}
		if mine == 0 {
			return nil
		}
		p.changed.Wait()
	}
}

// enqueue hands c to the hasher, starting it if it is not running.
func (p *Pool) enqueue(s *stream, c *chunk) {
	p.mu.Lock()
	s.chunks = append(s.chunks, c)
	if !s.queued {
		s.queued = true
		p.queue = append(p.queue, s)
	}
	if !p.running {
		p.running = true
		go p.hashLoop()
	}
	p.mu.Unlock()
}

// hashLoop hashes chunks until none waits, and ends: an idle pool holds
// no goroutine.
func (p *Pool) hashLoop() {
	for {
		p.mu.Lock()
		for len(p.lanes) < len(p.ptrs) && len(p.queue) > 0 {
			s := p.queue[0]
			p.queue[0] = nil
			p.queue = p.queue[1:]
			p.lanes = append(p.lanes, lane{s: s, c: s.chunks[0]})
		}
		if len(p.lanes) == 0 {
			p.running = false
			p.queue = nil
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.pass()
		p.retire()
	}
}

// pass hashes a slice of every lane's chunk: by the kernel, or by
// crypto/md5 for a stream alone.
func (p *Pool) pass() {
	if len(p.lanes) == 1 {
		s, c := p.lanes[0].s, p.lanes[0].c
		n := min(len(c.data), aloneSlice)
		s.load()
		s.h.Write(c.data[:n])
		s.st, _ = exportState(s.h, &s.engine)
		c.data = c.data[n:]
		return
	}
	blocks := laneSlice
	for _, l := range p.lanes {
		blocks = min(blocks, len(l.c.data)/64)
	}
	for i := range p.ptrs {
		l := p.lanes[min(i, len(p.lanes)-1)] // spare lanes hash a copy of the last stream
		for w := range 4 {
			p.state[w][i] = l.s.st.s[w]
		}
		p.ptrs[i] = &l.c.data[0]
	}
	blocks8(&p.state, &p.ptrs, blocks)
	p.passes.Add(1)
	clear(p.ptrs[:]) // keep no chunk alive
	for i, l := range p.lanes {
		for w := range 4 {
			l.s.st.s[w] = p.state[w][i]
		}
		l.s.st.n += uint64(blocks) * 64
		l.c.data = l.c.data[blocks*64:]
	}
}

// retire frees the chunks hashed to the end: the lane goes on with its
// stream's next chunk, or, when other streams wait for a lane, goes to the
// first of them while this stream waits behind them: a part of 5 GiB
// must not hold a lane while a ninth stream waits.
func (p *Pool) retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.lanes[:0]
	changed := false
	for _, l := range p.lanes {
		if len(l.c.data) > 0 {
			kept = append(kept, l)
			continue
		}
		changed = true
		p.inUse--
		buf := l.c.buf
		p.free.Put(&buf)
		l.s.chunks[0] = nil
		l.s.chunks = l.s.chunks[1:]
		switch {
		case len(l.s.chunks) > 0 && len(p.queue) > 0:
			// Take turns: a stream that waits gets the lane, this one
			// (still queued) waits behind it.
			p.queue = append(p.queue, l.s)
		case len(l.s.chunks) > 0:
			kept = append(kept, lane{s: l.s, c: l.s.chunks[0]})
		default:
			l.s.queued = false
			if p.idled != nil {
				p.idled(l.s)
			}
		}
	}
	clear(p.lanes[len(kept):])
	p.lanes = kept
	if changed {
		p.changed.Broadcast()
	}
}
