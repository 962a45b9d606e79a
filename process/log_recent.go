package process

// recentWrites keeps a log's last two writes in memory, as they went to
// the file, so that a reader that keeps up with the process (a live
// follower, the common case) parses them from there instead of reading the
// file back: the bytes still go to disk first, and the file stays the
// source of truth. A reader further behind reads the file.
//
// A reader holds (pins) the block it parses, without a copy, until it
// moves past it; the writer never builds a write in a held block. Memory
// stays bounded: per log, the two writes and a spare block of at most
// maxBlock each, held only while output flows (Finish lets them go); per
// reader, at most the one block it holds beyond those.
//
// Everything here is guarded by the log's mu.
type recentWrites struct {
	written [2]*logBlock // the last two writes, oldest first; nil: none
	spare   *logBlock    // a block no reader holds, for the next write
	off     bool         // released: blocks let go are not kept as spares
}

// logBlock is a buffer a write is built in, and then its bytes as written.
type logBlock struct {
	buf  []byte
	off  int64 // logical offset of buf[0] once written
	pins int   // readers parsing it: it is not built in again before they let go
}

// maxBlock bounds one write to a log: what one pump read can bring
// (pumpBufferSize), framed in records, after a segment-start record and a
// loss record.
const maxBlock = pumpBufferSize + (pumpBufferSize/maxChunk+1)*recordOverhead + segmentStartSize + recordOverhead + 8

// take returns a block to build the next write in, with room for need
// bytes up to maxBlock: the spare, or else the older write if no reader
// holds it (it is forgotten), or else a new block.
func (rw *recentWrites) take(need int) *logBlock {
	var b *logBlock
	switch {
	case rw.spare != nil:
		b, rw.spare = rw.spare, nil
	case rw.written[0] != nil && rw.written[0].pins == 0:
		b, rw.written[0] = rw.written[0], nil
	default:
		b = &logBlock{}
	}
	rw.off = false
	if need = min(need, maxBlock); cap(b.buf) < need {
		// Doubling: a process that writes more and more reallocates a few
		// times, not once per read.
		b.buf = make([]byte, 0, min(max(need, 2*cap(b.buf)), maxBlock))
	}
	return b
}

// wrote records that rec, built in b, went to the log at off: b becomes the
// newest write, and the older one is let go.
func (rw *recentWrites) wrote(b *logBlock, off int64, rec []byte) {
	b.buf, b.off = rec, off
	if old := rw.written[0]; old != nil {
		rw.written[0] = nil
		rw.letGo(old)
	}
	rw.written[0], rw.written[1] = rw.written[1], b
}

// giveBack returns a block whose write failed.
func (rw *recentWrites) giveBack(b *logBlock) { rw.letGo(b) }

// letGo keeps a block that is no write anymore as the spare, when no
// reader holds it and there is none; otherwise the readers holding it, and
// then the garbage collector, have it.
func (rw *recentWrites) letGo(b *logBlock) {
	if b.pins == 0 && rw.spare == nil && !rw.off {
		b.buf = b.buf[:0]
		rw.spare = b
	}
}

// hold returns the write that holds the logical offset off, pinned for the
// caller, or nil.
func (rw *recentWrites) hold(off int64) *logBlock {
	for _, b := range rw.written {
		if b != nil && off >= b.off && off < b.off+int64(len(b.buf)) {
			b.pins++
			return b
		}
	}
	return nil
}

// unpin lets go of a block hold returned.
func (rw *recentWrites) unpin(b *logBlock) {
	if b.pins--; b.pins == 0 && b != rw.written[0] && b != rw.written[1] {
		rw.letGo(b)
	}
}

// release forgets the writes and the spare: readers holding a block keep it
// until they let go. A later take starts again.
func (rw *recentWrites) release() { *rw = recentWrites{off: true} }
