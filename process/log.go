package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Stream names the pipe a chunk of output came from. The values are bits so
// that a set of streams (see Streams) can be matched with a mask.
type Stream uint8

const (
	Stdout Stream = 1 // the process's standard output
	Stderr Stream = 2 // the process's standard error
	// Both selects stdout and stderr interleaved in the order they arrived.
	Both = Stdout | Stderr
)

// String is the stream's name as the wires say it ("stdout", "stderr").
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("stream(%d)", uint8(s))
}

// On disk, a log is a sequence of records, each framed so it can be walked
// both ways: [stream:1][len:4] data [len:4]. The trailer lets Tail read
// backwards from the end without scanning the whole file.
const (
	recordHeaderSize  = 5
	recordTrailerSize = 4
	recordOverhead    = recordHeaderSize + recordTrailerSize
	// maxChunk is the largest payload of one record: what one pipe read gives.
	maxChunk = 32 << 10
)

// segment is one file of a log. Offsets are logical: bytes of records since
// the log began, so readers keep their place across dropped segments.
type segment struct {
	seq   uint64 // global creation order, used to drop the oldest output first
	base  int64  // logical offset of the segment's first record
	size  int64  // bytes of complete records in the file
	data  int64  // bytes of output in those records, framing excluded
	path  string
	index int // the segment's number within its log, for its file name
	// head is the bytes of the segment-start record the file begins with
	// (log_segment_start.go), 0 for a file written before it existed.
	head int64
}

func (s *segment) end() int64 { return s.base + s.size }

// Log keeps every byte a process writes, in order, on disk. Memory stays
// bounded whatever the volume: readers pull at their own pace, from the
// last writes still in memory (log_recent.go) or else from the files, and
// the writer never waits for them. Past maxBytes the oldest segment is
// removed; readers that fall behind it get a marker saying how much was lost.
type Log struct {
	dir         string
	prefix      string
	segmentSize int64
	maxBytes    int64
	nextSeq     func() uint64

	// wmu serializes the writers (the pumps of stdout and stderr, Finish,
	// Remove) and is held while a write goes to disk; mu guards the state
	// readers see, and is never held across a write of output.
	wmu     sync.Mutex
	mu      sync.Mutex
	segs    []*segment // retained segments, oldest first
	w       *os.File   // writer of the last segment; nil until first output
	end     int64      // logical end: everything below is readable
	dropped int64      // logical bytes removed from the front
	// Output bytes (framing excluded) ever appended and removed by a cap,
	// for the counts drop markers give.
	dataEnd, dataDropped int64
	finished             bool // no more output is expected (the process ended)
	removed              bool // the log was deleted: late output is discarded
	waiting              bool // a reader waits on changed
	changed              chan struct{}
	recent               recentWrites // the last writes, for readers that keep up (log_recent.go)
	tails                [2]tailIndex // where stdout's and stderr's last output lie (log_tail_index.go)
	writeErr             error
	// lost counts output bytes a failed write (a full disk) could not keep
	// since the last loss record; readers are told with a marker.
	lost int64
	// The bytes of the last segment's file reserved ahead of fast writes
	// (log_prealloc_linux.go), and whether the file system refused; the
	// writers' own state, guarded by wmu alone.
	alloc       int64
	allocFailed bool
	// beforeWrite, when set (by tests), runs before each write goes to disk.
	beforeWrite func()
}

// newLog makes an empty log whose files are dir/prefix-N.log. The log is
// split into about four segments so that dropping the oldest one frees a
// quarter of the cap at a time.
func newLog(dir, prefix string, maxBytes int64, nextSeq func() uint64) *Log {
	seg := maxBytes / 4
	if seg < 2*(maxChunk+recordOverhead) {
		seg = 2 * (maxChunk + recordOverhead)
	}
	return &Log{
		dir:         dir,
		prefix:      prefix,
		segmentSize: seg,
		maxBytes:    maxBytes,
		nextSeq:     nextSeq,
		changed:     make(chan struct{}),
	}
}

// Append writes one chunk, as records of at most maxChunk bytes, in as few
// writes as blocks allow (one, as a rule), each followed by a wakeup of the
// readers. It reports whether a new segment was started, the moment the
// caller re-checks the daemon-wide disk budget.
//
// A write goes to disk holding the writers' lock only: readers go on
// reading what was written before (from memory, as a rule) meanwhile, and
// only see the write once it is on the file.
func (l *Log) Append(s Stream, data []byte) (rolled bool, err error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	for len(data) > 0 {
		l.mu.Lock()
		if l.removed {
			l.mu.Unlock()
			return rolled, nil
		}
		if l.w == nil || l.segs[len(l.segs)-1].size >= l.segmentSize {
			if err := l.rollLocked(); err != nil {
				l.writeErr = err
				l.lost += int64(len(data))
				l.mu.Unlock()
				return rolled, err
			}
			rolled = true
		}
		seg := l.segs[len(l.segs)-1]
		block := l.recent.take(len(data) + (len(data)/maxChunk+1)*recordOverhead + segmentStartSize)
		rec := l.startWriteLocked(block.buf[:0], seg)
		lost, w, segSize := l.lost, l.w, seg.size
		l.mu.Unlock()

		var payload int
		if lost > 0 {
			// Output lost to a failed write comes back as a marker, in its
			// place, once the log can be written again.
			rec = lossRecord(rec, lost)
		} else {
			// As many records as fit in the block and the segment.
			for rest := data; len(rest) > 0 && len(rec)+recordOverhead+1 <= cap(rec) && segSize+int64(len(rec)) < l.segmentSize; {
				n := min(len(rest), maxChunk, cap(rec)-len(rec)-recordOverhead)
				rec = append(rec, byte(s))
				rec = binary.LittleEndian.AppendUint32(rec, uint32(n))
				rec = append(rec, rest[:n]...)
				rec = binary.LittleEndian.AppendUint32(rec, uint32(n))
				payload += n
				rest = rest[n:]
			}
		}
		werr := l.write(w, seg, rec)

		l.mu.Lock()
		if werr != nil {
			l.writeErr = werr
			l.lost += int64(len(data))
			l.recent.giveBack(block)
			l.mu.Unlock()
			return rolled, werr
		}
		wrote := s
		if lost > 0 {
			l.lost = 0
			wrote = lossMark
		}
		l.committedLocked(seg, block, wrote, rec, payload)
		data = data[payload:]
		l.mu.Unlock()
	}
	return rolled, nil
}

// lossMark is the stream byte of a record that holds, as a little-endian
// uint64, the number of output bytes a failed write lost at that point. It
// is no real stream: no stream mask selects it.
const lossMark Stream = 0x80

func lossRecord(buf []byte, lost int64) []byte {
	buf = append(buf, byte(lossMark))
	buf = binary.LittleEndian.AppendUint32(buf, 8)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(lost))
	return binary.LittleEndian.AppendUint32(buf, 8)
}

// startWriteLocked begins the bytes of a write to seg in buf: a
// segment's first write starts with its segment-start record
// (log_segment_start.go).
func (l *Log) startWriteLocked(buf []byte, seg *segment) []byte {
	if seg.size == 0 {
		return appendSegmentStart(buf, segmentStart{seg.base, l.dataEnd})
	}
	return buf
}

// write puts whole records, begun by startWriteLocked, at the end of seg,
// whose file is w. It runs holding the writers' lock only: seg's size and
// w change only under it.
func (l *Log) write(w *os.File, seg *segment, rec []byte) error {
	if l.beforeWrite != nil {
		l.beforeWrite()
	}
	l.preallocate(w, seg, len(rec))
	n, err := w.Write(rec)
	if err != nil {
		// A partial record would corrupt the framing: cut it off again.
		if n > 0 {
			_ = w.Truncate(seg.size)
			_, _ = w.Seek(seg.size, io.SeekStart)
		}
		return fmt.Errorf("write log %s: %w", seg.path, err)
	}
	return nil
}

// committedLocked makes a write of rec, built in block (nil: none), to
// seg readable, and wakes the readers. The write's records are all of
// stream s, or one loss record (s is lossMark).
func (l *Log) committedLocked(seg *segment, block *logBlock, s Stream, rec []byte, payload int) {
	if seg.size == 0 {
		seg.head = segmentStartSize
	}
	if block != nil {
		l.recent.wrote(block, l.end, rec)
	}
	indexRecord(&l.tails, s, l.end, l.end+int64(len(rec)), seg.base, int64(payload))
	seg.size += int64(len(rec))
	seg.data += int64(payload)
	l.end += int64(len(rec))
	l.dataEnd += int64(payload)
	l.dropOverCapLocked()
	if l.finished {
		l.recent.release() // late output of orphans: kept on disk only
	}
	l.notifyLocked()
}

func (l *Log) rollLocked() error {
	if l.w != nil {
		l.trimLocked(l.segs[len(l.segs)-1])
		if err := l.w.Close(); err != nil {
			return fmt.Errorf("close log segment: %w", err)
		}
		l.w = nil
	}
	index := 0
	if len(l.segs) > 0 {
		index = l.segs[len(l.segs)-1].index + 1
	}
	path := filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", l.prefix, index))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create log segment %s: %w", path, err)
	}
	l.w = f
	l.alloc, l.allocFailed = 0, false
	l.segs = append(l.segs, &segment{seq: l.nextSeq(), base: l.end, path: path, index: index})
	return nil
}

func (l *Log) dropOverCapLocked() {
	for len(l.segs) > 1 && l.end-l.dropped > l.maxBytes {
		l.dropOldestLocked()
	}
}

// dropOldestLocked removes the oldest segment unless it is the one being
// written. Readers that had not read past it get a drop marker instead.
func (l *Log) dropOldestLocked() (freed int64) {
	if len(l.segs) < 2 && !(len(l.segs) == 1 && l.w == nil) {
		return 0
	}
	old := l.segs[0]
	l.segs = l.segs[1:]
	l.dropped = old.end()
	l.dataDropped += old.data
	_ = os.Remove(old.path)
	return old.size
}

func (l *Log) notifyLocked() {
	if l.waiting {
		close(l.changed)
		l.changed = make(chan struct{})
		l.waiting = false
	}
}

// Finish marks the end of the process's output: readers that reach the end
// return io.EOF instead of waiting. Late writes (from orphaned children that
// still hold the pipe) are still kept.
func (l *Log) Finish() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished = true
	if l.lost > 0 && l.w != nil && len(l.segs) > 0 {
		seg := l.segs[len(l.segs)-1]
		rec := lossRecord(l.startWriteLocked(nil, seg), l.lost)
		if err := l.write(l.w, seg, rec); err == nil {
			l.committedLocked(seg, nil, lossMark, rec, 0)
			l.lost = 0
		} else { // readers report it at the end (Reader.Next)
			l.writeErr = err
		}
	}
	l.recent.release() // readers still behind read the file
	if l.w != nil {
		l.trimLocked(l.segs[len(l.segs)-1])
		_ = l.w.Close()
		l.w = nil
	}
	l.notifyLocked()
}

// Remove deletes every file of the log.
func (l *Log) Remove() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		_ = l.w.Close()
		l.w = nil
	}
	for _, s := range l.segs {
		_ = os.Remove(s.path)
	}
	l.recent.release()
	if len(l.segs) > 0 {
		l.dropped = l.end
		l.dataDropped = l.dataEnd
	}
	l.segs = nil
	l.finished = true
	l.removed = true
	l.notifyLocked()
}

// retained is the bytes of records the log holds on disk.
func (l *Log) retained() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end - l.dropped
}

// oldestDroppable gives the sequence number of the segment DropOldest would
// remove, and false when there is none.
func (l *Log) oldestDroppable() (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segs) == 0 || (len(l.segs) == 1 && l.w != nil) {
		return 0, false
	}
	return l.segs[0].seq, true
}

// dropOldest removes the oldest segment that is not being written.
func (l *Log) dropOldest() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	freed := l.dropOldestLocked()
	l.notifyLocked()
	return freed
}

// Dropped reports how many bytes of output were removed by the caps.
func (l *Log) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dataDropped
}

// Err is the first error that kept output from the disk, if any.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writeErr
}

// DropMarker is the line readers get in place of output removed by a cap.
func DropMarker(n int64) string {
	return fmt.Sprintf("[sandbox-api: %d bytes of older output were dropped to respect the log size cap]\n", n)
}

// LossMarker is the line readers get in place of output that could not be
// written to the log (a full disk).
func LossMarker(n int64) string {
	return fmt.Sprintf("[sandbox-api: %d bytes of output were lost: the log could not be written (disk full?)]\n", n)
}

var errSegmentGone = errors.New("log segment removed")
