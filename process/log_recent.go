package process

// recentWrites keeps a log's last two writes in memory, as they went to
// the file, so that a reader that keeps up with the process (a live
// follower, the common case) copies them from here instead of reading the
// file back: the bytes still go to disk first, and the file stays the
// source of truth. A reader further behind reads the file. Memory stays
// bounded: two buffers of at most maxBlock per log, held only while output
// flows (Finish lets them go), none per reader.
//
// The writes are built in the two buffers in turn, so building one never
// touches the newest write. Everything here is guarded by the log's mutex.
type recentWrites struct {
	bufs   [2][]byte
	offs   [2]int64 // logical offset of the write each buffer holds
	lens   [2]int   // its length; 0 when the buffer holds none
	newest int      // the buffer of the last write
}

// maxBlock bounds one write to a log: what one pump read can bring
// (pumpBufferSize), framed in records, after a segment-start record and a
// loss record.
const maxBlock = pumpBufferSize + (pumpBufferSize/maxChunk+1)*recordOverhead + segmentStartSize + recordOverhead + 8

// block returns an empty buffer to build the next write in, with room for
// need bytes up to maxBlock, and its index for wrote. Whatever it held is
// forgotten.
func (rw *recentWrites) block(need int) (int, []byte) {
	i := 1 - rw.newest
	rw.lens[i] = 0
	if need = min(need, maxBlock); cap(rw.bufs[i]) < need {
		// Doubling: a process that writes more and more reallocates a few
		// times, not once per read.
		rw.bufs[i] = make([]byte, 0, min(max(need, 2*cap(rw.bufs[i])), maxBlock))
	}
	return i, rw.bufs[i][:0]
}

// wrote records that buffer i's first n bytes went to the log at off.
func (rw *recentWrites) wrote(i int, off int64, n int) {
	rw.offs[i], rw.lens[i] = off, n
	rw.newest = i
}

// appendFrom appends to dst, up to a length of limit, the bytes from the
// logical offset off on that the recent writes hold, and reports false
// when they do not hold the byte at off.
func (rw *recentWrites) appendFrom(dst []byte, off int64, limit int) ([]byte, bool) {
	found := false
	for _, i := range [2]int{1 - rw.newest, rw.newest} { // in the order written
		if rw.lens[i] == 0 || off < rw.offs[i] || off >= rw.offs[i]+int64(rw.lens[i]) {
			continue
		}
		held := rw.bufs[i][off-rw.offs[i] : rw.lens[i]]
		held = held[:min(len(held), limit-len(dst))]
		dst = append(dst, held...)
		off += int64(len(held))
		found = true
	}
	return dst, found
}

// release forgets the writes and lets the buffers go.
func (rw *recentWrites) release() { *rw = recentWrites{} }
