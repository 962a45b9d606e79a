package filesystem

// Parts written in place. Clients send every part but the last at one
// size (the SDK: 5 MiB), so once an upload's part size is known, part n
// can be written straight at offset (n-1)*stride of one file of the
// upload, its assembly file. When the parts listed to complete the upload
// turn out to lie end to end in it, complete lands that file as it is
// (see multipart_assemble.go): the bytes are written to disk once, while
// they arrive, instead of twice with the second copy after the last part.
//
//	<upload>/stride.json     {"stride": 5242880}: the size of the first part stored
//	<upload>/assembly.data   part n's in-place version at (n-1)*stride, holes elsewhere
//
// The stride is learnt from the first part stored (at least minStride
// bytes): the parts in flight before it is known go to data files of their
// own, as every part went before, and complete copies them into their
// slots. A part longer than the stride outgrows its slot and moves to a
// data file of its own (spill).
//
// A slot holds at most one version, and only one writer: a part goes in
// place only when its slot is free, meaning no writer holds it (slotClaims,
// in memory) and the part's current version is not there (its record, on
// disk). Otherwise, as while complete holds the upload (seal), the part
// goes to a data file of its own. So a version in place is never written
// over while it is current, and a re-sent part that fails leaves it whole.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

const (
	uploadAssemblyFile = "assembly.data"
	uploadStrideFile   = "stride.json"
	// defaultMinStride: smaller parts gain nothing from being written in
	// place, and would make slots too small for the next ones.
	defaultMinStride = 1 << 20
	// maxAssemblySize bounds where a slot may lie (part number × stride):
	// past it a part gets a data file of its own, far below the largest
	// file of ext4, XFS or tmpfs.
	maxAssemblySize = 1 << 40
)

// strideMeta is stride.json.
type strideMeta struct {
	Stride int64 `json:"stride"`
}

// stride is the upload's part size for slots; false while it is unknown.
func uploadStride(dir string) (int64, bool) {
	var m strideMeta
	if err := uploadReadJSON(filepath.Join(dir, uploadStrideFile), &m); err != nil || m.Stride <= 0 {
		return 0, false
	}
	return m.Stride, true
}

// learnStride records size as the upload's stride, unless one is recorded
// already: the first part stored wins. Best effort: without a stride,
// parts go to data files of their own, as they always may.
func (u *uploads) learnStride(dir string, size int64) {
	if size < u.minStride {
		return
	}
	if _, ok := uploadStride(dir); ok {
		return
	}
	// Written aside, then linked into place: link fails if a stride is
	// there already, so two parts ending together cannot both set it.
	tmp := "." + uploadStrideFile + "." + uploadRandomHex(4)
	if err := uploadWriteJSON(dir, tmp, strideMeta{Stride: size}); err != nil {
		return
	}
	_ = os.Link(filepath.Join(dir, tmp), filepath.Join(dir, uploadStrideFile))
	_ = os.Remove(filepath.Join(dir, tmp))
}

// slotKey names part number's slot of one upload.
type slotKey struct {
	id     string
	number int
}

// slotClaims is who writes into the slots of assembly files now: the
// writers of in-place parts, each holding its part's slot, and the
// completes, each sealing its upload. It lives in memory: after a restart
// nothing is being written.
type slotClaims struct {
	mu     sync.Mutex
	held   map[slotKey]bool
	active map[string]int  // slots held per upload
	sealed map[string]bool // uploads a complete holds
}

func newSlotClaims() *slotClaims {
	return &slotClaims{held: map[slotKey]bool{}, active: map[string]int{}, sealed: map[string]bool{}}
}

// claim takes part number's slot of upload id for a writer: false when
// the upload is sealed or another writer holds the slot.
func (c *slotClaims) claim(id string, number int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := slotKey{id, number}
	if c.sealed[id] || c.held[k] {
		return false
	}
	c.held[k] = true
	c.active[id]++
	return true
}

// release gives back a slot taken by claim.
func (c *slotClaims) release(id string, number int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, slotKey{id, number})
	if c.active[id]--; c.active[id] <= 0 {
		delete(c.active, id)
	}
}

// seal stops new in-place writes to upload id until unseal. quiet tells
// whether no writer holds a slot of it: only then do the slots stay as
// they are while the seal lasts. Completes of one upload are serialized
// before they seal (see uploads.completing).
func (c *slotClaims) seal(id string) (quiet bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sealed[id] = true
	return c.active[id] == 0
}

func (c *slotClaims) unseal(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sealed, id)
}

// partSink is where the bytes of one part go: its slot in the assembly
// file while they fit (in place), else a data file of its own.
type partSink struct {
	dir    string
	number int
	// In place: the assembly file, the slot's offset and size, how much
	// was written there and how much of that is on its way to disk.
	asm        *os.File
	off, slot  int64
	n, flushed int64
	// Else (from the start, or since the part outgrew its slot).
	own     *os.File
	ownName string
}

// openPartSink starts part number of the upload in dir: in place when the
// slot is free (see the file's comment), else in a new data file. release
// gives back the slot, if one was taken, once the part is committed or
// dropped.
func (u *uploads) openPartSink(id, dir string, number int) (sink *partSink, release func(), err error) {
	sink = &partSink{dir: dir, number: number}
	release = func() {}
	if stride, ok := uploadStride(dir); ok && int64(number)*stride <= maxAssemblySize && u.claims.claim(id, number) {
		var current partMeta
		err := uploadReadJSON(filepath.Join(dir, uploadPartFile(number)), &current)
		inSlot := err == nil && current.Data == uploadAssemblyFile
		if (err == nil || errors.Is(err, fs.ErrNotExist)) && !inSlot {
			// Read and write: a part that outgrows its slot reads back
			// what it wrote there (spill).
			asm, err := os.OpenFile(filepath.Join(dir, uploadAssemblyFile), os.O_RDWR|os.O_CREATE, 0o600)
			if err == nil {
				sink.asm, sink.off, sink.slot = asm, int64(number-1)*stride, stride
				return sink, func() { u.claims.release(id, number) }, nil
			}
		}
		u.claims.release(id, number)
	}
	if err := sink.openOwn(); err != nil {
		return nil, release, err
	}
	return sink, release, nil
}

// openOwn creates the part's own data file, never reused: its name is new.
func (s *partSink) openOwn() error {
	name := fmt.Sprintf("%05d.%s.data", s.number, uploadRandomHex(8))
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	s.own, s.ownName = f, name
	return nil
}

// Write appends p to the part.
func (s *partSink) Write(p []byte) (int, error) {
	if s.asm != nil && s.n+int64(len(p)) > s.slot {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	if s.asm == nil {
		return s.own.Write(p)
	}
	n, err := s.asm.WriteAt(p, s.off+s.n)
	s.n += int64(n)
	if s.n-s.flushed >= writebackChunk {
		s.writeback()
	}
	return n, err
}

// writeback starts writing what the slot received since the last time to
// disk: complete's fsync then finds it done or under way.
func (s *partSink) writeback() {
	startWriteback(s.asm, s.off+s.flushed, s.n-s.flushed)
	s.flushed = s.n
}

// spill moves the part out of its slot, which it outgrew, into a data
// file of its own: what the slot holds of it is copied there first.
func (s *partSink) spill() error {
	if err := s.openOwn(); err != nil {
		return err
	}
	asm := s.asm
	s.asm = nil
	defer asm.Close()
	if _, err := io.Copy(s.own, io.NewSectionReader(asm, s.off, s.n)); err != nil {
		return fmt.Errorf("move part %d out of its slot: %w", s.number, err)
	}
	return nil
}

// close ends the part's writes and describes where its bytes are; the
// caller fills in the etag and time.
func (s *partSink) close(size int64) (partMeta, error) {
	if s.asm != nil {
		if s.n > s.flushed {
			s.writeback()
		}
		return partMeta{Data: uploadAssemblyFile, Offset: s.off, Size: size}, s.asm.Close()
	}
	return partMeta{Data: s.ownName, Size: size}, s.own.Close()
}

// drop ends the part's writes after a failure: its own data file, if it
// has one, is removed; what it wrote in its slot is nobody's (the slot's
// next writer writes over it).
func (s *partSink) drop() {
	if s.asm != nil {
		_ = s.asm.Close()
	}
	if s.own != nil {
		_ = s.own.Close()
		_ = os.Remove(filepath.Join(s.dir, s.ownName))
	}
}
