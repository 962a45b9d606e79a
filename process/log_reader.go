package process

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Chunk is one piece of output as it was read from the process, or, when
// Dropped is set, the notice that this many bytes were removed by a cap
// before the reader got to them, or, when Lost is set, that this many bytes
// could not be written to the log at this point (a full disk).
type Chunk struct {
	Stream  Stream
	Data    []byte // valid until the next call to Next
	Dropped int64
	Lost    int64
}

// ErrIdle is returned by Reader.Next when nothing arrived within the idle
// interval, so that streams can send keepalives.
var ErrIdle = errors.New("no output within the idle interval")

// Reader walks a log from the start, each at its own pace: it holds its own
// file and buffer, and never slows the writer or other readers.
type Reader struct {
	l      *Log
	off    int64 // logical offset of the next record to return
	f      *os.File
	fBase  int64     // logical offset of f's first byte
	buf    []byte    // what the reader parses: own, or held
	bufOff int64     // logical offset of buf[0]
	own    []byte    // the reader's buffer for reads of the file
	held   *logBlock // a recent write buf is, pinned (log_recent.go)
	seen   int64     // output bytes before off: returned, or reported dropped
	// lostTold: the loss the log could not record before it finished was
	// reported (once, at the end).
	lostTold bool
}

// readerBufferSize is what one read of the log takes: whole records of up to
// maxChunk, many at a time, so following a fast process costs few reads.
const readerBufferSize = 16 * (maxChunk + recordOverhead)

// NewReader reads the log from its oldest retained byte.
func (l *Log) NewReader() *Reader {
	return &Reader{l: l} // the buffer grows with what there is to read
}

// Close releases the reader's file, and the recent write it holds.
func (r *Reader) Close() {
	if r.held != nil {
		r.l.mu.Lock()
		r.letGoLocked()
		r.l.mu.Unlock()
	}
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// Next returns the next chunk. With follow unset it returns io.EOF at the
// current end of the log; with follow set it waits for more output, and
// returns io.EOF only once the log is finished and fully read, ErrIdle after
// idle without output (idle 0: no limit; idle < 0: at once, without
// waiting), or the context's error.
func (r *Reader) Next(ctx context.Context, follow bool, idle time.Duration) (Chunk, error) {
	var timer <-chan time.Time
	for {
		if c, ok, err := r.fromBuffer(); ok || err != nil {
			return c, err
		}
		l := r.l
		l.mu.Lock()
		r.letGoLocked() // the buffer holds no more whole records
		if r.off < l.dropped {
			lost := l.dataDropped - r.seen
			r.off, r.seen = l.dropped, l.dataDropped
			r.buf = r.buf[:0]
			l.mu.Unlock()
			return Chunk{Dropped: lost}, nil
		}
		if r.off >= l.end {
			if l.finished && l.lost > 0 && !r.lostTold {
				r.lostTold = true
				lost := l.lost
				l.mu.Unlock()
				return Chunk{Lost: lost}, nil
			}
			if !follow || l.finished {
				l.mu.Unlock()
				return Chunk{}, io.EOF
			}
			if idle < 0 {
				l.mu.Unlock()
				return Chunk{}, ErrIdle
			}
			l.waiting = true
			changed := l.changed
			l.mu.Unlock()
			if idle > 0 && timer == nil {
				t := time.NewTimer(idle)
				defer t.Stop()
				timer = t.C
			}
			select {
			case <-changed:
				continue
			case <-timer:
				return Chunk{}, ErrIdle
			case <-ctx.Done():
				return Chunk{}, ctx.Err()
			}
		}
		if b := l.recent.hold(r.off); b != nil {
			r.held, r.buf, r.bufOff = b, b.buf, b.off
			l.mu.Unlock()
			continue
		}
		seg := l.segmentAtLocked(r.off)
		segCopy := *seg
		l.mu.Unlock()
		if err := r.fill(&segCopy); err != nil {
			if errors.Is(err, errSegmentGone) {
				continue // dropped under us: the next turn reports it
			}
			return Chunk{}, err
		}
	}
}

func (l *Log) segmentAtLocked(off int64) *segment {
	for i := len(l.segs) - 1; i >= 0; i-- {
		if l.segs[i].base <= off {
			return l.segs[i]
		}
	}
	return l.segs[0]
}

// fromBuffer parses the record at r.off out of the buffer, if it is whole.
// Segment-start records are passed over: they are no output.
func (r *Reader) fromBuffer() (Chunk, bool, error) {
	for {
		start := r.off - r.bufOff
		if start < 0 || start+recordHeaderSize > int64(len(r.buf)) {
			return Chunk{}, false, nil
		}
		b := r.buf[start:]
		n := int64(binary.LittleEndian.Uint32(b[1:5]))
		if n > maxChunk {
			return Chunk{}, false, fmt.Errorf("corrupt log record at offset %d", r.off)
		}
		if recordOverhead+n > int64(len(b)) {
			return Chunk{}, false, nil
		}
		r.off += recordOverhead + n
		data := b[recordHeaderSize : recordHeaderSize+n]
		switch Stream(b[0]) {
		case segmentMark:
			continue
		case lossMark:
			if n != 8 {
				return Chunk{}, false, fmt.Errorf("corrupt loss record at offset %d", r.off-recordOverhead-n)
			}
			return Chunk{Lost: int64(binary.LittleEndian.Uint64(data))}, true, nil
		}
		r.seen += n
		return Chunk{Stream: Stream(b[0]), Data: data}, true, nil
	}
}

// letGoLocked lets go of the recent write the reader holds, if any: its
// records are all parsed.
func (r *Reader) letGoLocked() {
	if r.held != nil {
		r.l.recent.unpin(r.held)
		r.held, r.buf = nil, nil
	}
}

// fill reads as much of seg as fits in the buffer, starting at r.off.
func (r *Reader) fill(seg *segment) error {
	if r.f == nil || r.fBase != seg.base {
		if r.f != nil {
			_ = r.f.Close()
			r.f = nil
		}
		f, err := os.Open(seg.path)
		if errors.Is(err, os.ErrNotExist) {
			return errSegmentGone
		}
		if err != nil {
			return fmt.Errorf("open log segment: %w", err)
		}
		r.f, r.fBase = f, seg.base
	}
	want := min(readerBufferSize, seg.end()-r.off)
	if int64(cap(r.own)) < want {
		r.own = make([]byte, 0, want)
	}
	r.buf = r.own[:want]
	n, err := r.f.ReadAt(r.buf, r.off-seg.base)
	r.buf = r.buf[:n]
	r.bufOff = r.off
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == want) {
		return fmt.Errorf("read log segment %s: %w", seg.path, err)
	}
	return nil
}

// Copy writes the retained output of the selected streams to w, in order,
// starting with a drop marker when a cap removed older output. Both streams
// together are interleaved line by line, so that a partial line of one
// stream is never spliced with a line of the other; a single stream is
// copied byte for byte.
func (l *Log) Copy(ctx context.Context, w io.Writer, streams Stream) error {
	if l.holdsNothing() {
		// The common answer of an exec that printed nothing, three times
		// over (logs, stdout, stderr): no reader to make and let go. On the
		// 2-core VM, 1.5-2 µs of the answer's way (docs/measured.md).
		return nil
	}
	r := l.NewReader()
	defer r.Close()
	var werr error
	emit := writeLines(w, &werr)
	var lines lineSplitter
	midLine := false // a single stream's raw bytes so far end inside a line
	for werr == nil {
		c, err := r.Next(ctx, false, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case streams == Both:
			lines.split(c, emit)
		case c.Dropped > 0 || c.Lost > 0:
			if midLine { // the marker is a line of its own
				_, werr = w.Write([]byte{'\n'})
				midLine = false
			}
			lines.split(c, emit)
		case c.Stream&streams != 0 && len(c.Data) > 0:
			_, werr = w.Write(c.Data)
			midLine = c.Data[len(c.Data)-1] != '\n'
		}
	}
	lines.flush(emit)
	return werr
}

// holdsNothing reports a log a copy has nothing to give: no output kept,
// none dropped by the cap, none lost to a failed write (each of which a
// copy would tell).
func (l *Log) holdsNothing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end == 0 && l.dropped == 0 && l.lost == 0
}
