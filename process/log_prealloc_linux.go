package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// A process that writes fast gets the blocks of its current segment
// reserved ahead of its writes, a few MiB at a time (fallocate, the file's
// size unchanged): the file system then allocates once per step instead of
// reserving and mapping each block on each write, which took a third of
// the cost of keeping its output on disk. What is reserved past the last
// write is given back when the segment is closed (trimLocked), so at most
// one step per writing log is ever held beyond its output. Slow writers
// reserve nothing.
const (
	preallocStep     = 8 << 20
	preallocMinWrite = 64 << 10 // writes smaller than this reserve nothing
)

// preallocate reserves the blocks of seg, the last segment, whose file is
// w, for a write of n bytes at its end and a step beyond, unless they are
// reserved already. It runs holding the writers' lock, which guards what
// it reads and changes (finished is set under both locks). A refusal (a
// full disk, a file system without fallocate) stops it for the segment:
// the write itself then goes on as it would have. Late output, after the
// process ended, reserves nothing: no close would give it back.
func (l *Log) preallocate(w *os.File, seg *segment, n int) {
	end := seg.size + int64(n)
	if n < preallocMinWrite || end <= l.alloc || l.allocFailed || l.finished {
		return
	}
	upTo := min(end+preallocStep, l.segmentSize+maxBlock)
	from := max(l.alloc, seg.size)
	if upTo <= from {
		return
	}
	if err := unix.Fallocate(int(w.Fd()), unix.FALLOC_FL_KEEP_SIZE, from, upTo-from); err != nil {
		// What a failed call reserved before it failed is given back.
		_ = w.Truncate(seg.size)
		l.alloc, l.allocFailed = 0, true
		return
	}
	l.alloc = upTo
}

// trimLocked gives back what the current segment has reserved past its
// end, before its file is closed.
func (l *Log) trimLocked(seg *segment) {
	if l.alloc > seg.size {
		_ = l.w.Truncate(seg.size) // frees the blocks past the end
		l.alloc = 0
	}
}
