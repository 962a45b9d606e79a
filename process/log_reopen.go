package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// segmentFile is a segment file of an earlier run, found in the log folder.
type segmentFile struct {
	index int
	path  string
}

// segmentScan is what walking one segment file found.
type segmentScan struct {
	size  int64         // bytes of whole, well-framed records from the start
	data  int64         // output bytes in them
	start *segmentStart // the segment-start record, if the file begins with one
	// lastStdout is the last stdout byte of the segment, for a line of
	// the daemon's own to start on a line of its own; hasStdout tells
	// whether there is one.
	lastStdout byte
	hasStdout  bool
}

// scanBufferSize is what one read of a segment file takes while walking it.
const scanBufferSize = 1 << 20

// scanSegment walks the records of a segment file from its start, checking
// their framing. Whatever follows the last whole record (a write a crash
// cut, a disk that filled up) is not part of the log: size stops before it.
//
// each, when not nil, is given every output and loss record: its stream,
// where it starts in the file, its bytes in all, and its output bytes.
func scanSegment(path string, each func(kind Stream, off, size, data int64)) (segmentScan, error) {
	var s segmentScan
	f, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("open log segment: %w", err)
	}
	defer f.Close()
	buf := make([]byte, scanBufferSize)
	var bufOff int64 // file offset of buf[0]
	n := 0           // bytes of buf that hold the file
	eof := false
	for {
		at := s.size - bufOff // the next record, in buf
		var size int64
		if at+recordHeaderSize <= int64(n) {
			size = int64(binary.LittleEndian.Uint32(buf[at+1 : at+5]))
			if size > maxChunk {
				return s, nil // not a record: the log ends before it
			}
		}
		if at+recordHeaderSize > int64(n) || at+recordOverhead+size > int64(n) {
			if eof {
				return s, nil // a cut record, or the end
			}
			// Refill from the next record on: a whole record always fits
			// (maxChunk is far smaller than the buffer).
			bufOff = s.size
			n, err = f.ReadAt(buf, bufOff)
			if errors.Is(err, io.EOF) {
				eof, err = true, nil
			}
			if err != nil {
				return s, fmt.Errorf("read log segment %s: %w", path, err)
			}
			continue
		}
		rec := buf[at:]
		kind := Stream(rec[0])
		trailer := int64(binary.LittleEndian.Uint32(rec[recordHeaderSize+size:]))
		payload := rec[recordHeaderSize : recordHeaderSize+size]
		switch {
		case trailer != size:
			return s, nil // not a record: the log ends before it
		case kind == Stdout || kind == Stderr:
			s.data += size
			if kind == Stdout && size > 0 {
				s.lastStdout, s.hasStdout = payload[size-1], true
			}
			if each != nil {
				each(kind, s.size, recordOverhead+size, size)
			}
		case kind == lossMark && size == 8:
			if each != nil {
				each(kind, s.size, recordOverhead+size, 0)
			}
		case kind == segmentMark && s.size == 0:
			start, ok := parseSegmentStart(payload)
			if !ok {
				return s, nil
			}
			s.start = &start
		default:
			return s, nil
		}
		s.size += recordOverhead + size
	}
}

// reopenLog rebuilds the log of a process of an earlier run from its
// segment files, for reading, within maxBytes (the oldest segments beyond
// it are removed). Each file is walked once; a cut end is truncated away.
// It reports the last stdout byte, as scanSegment does.
func reopenLog(dir, prefix string, maxBytes int64, nextSeq func() uint64, files []segmentFile) (l *Log, lastStdout byte, hasStdout bool, err error) {
	sort.Slice(files, func(i, j int) bool { return files[i].index < files[j].index })
	l = newLog(dir, prefix, maxBytes, nextSeq)
	for _, sf := range files {
		// The index of the segment's records, by file offset: the
		// segment's logical base is known once it is walked.
		var tails [2]tailIndex
		scan, err := scanSegment(sf.path, func(kind Stream, off, size, data int64) {
			indexRecord(&tails, kind, off, off+size, 0, data)
		})
		if err != nil {
			return nil, 0, false, err
		}
		if st, err := os.Stat(sf.path); err == nil && st.Size() > scan.size {
			if err := os.Truncate(sf.path, scan.size); err != nil {
				return nil, 0, false, fmt.Errorf("cut the torn end of log segment %s: %w", sf.path, err)
			}
		}
		if scan.size == 0 {
			_ = os.Remove(sf.path) // nothing readable in it
			continue
		}
		seg := &segment{base: l.end, size: scan.size, data: scan.data, path: sf.path, index: sf.index}
		if scan.start != nil {
			seg.head = segmentStartSize
		}
		if len(l.segs) == 0 && scan.start != nil {
			// What caps removed before the oldest segment left: readers
			// get the drop marker they would have got before the restart.
			seg.base = scan.start.base
			l.dropped, l.dataDropped = scan.start.base, scan.start.dataBase
			l.end, l.dataEnd = scan.start.base, scan.start.dataBase
		}
		l.segs = append(l.segs, seg)
		for i := range tails {
			for _, r := range tails[i].runs {
				l.tails[i].add(seg.base+r.Start, seg.base+r.End, seg.base, r.Data)
			}
			l.tails[i].pruned = l.tails[i].pruned || tails[i].pruned
		}
		l.end += seg.size
		l.dataEnd += seg.data
		if scan.hasStdout {
			lastStdout, hasStdout = scan.lastStdout, true
		}
	}
	l.mu.Lock()
	l.dropOverCapLocked()
	l.finished = true
	l.mu.Unlock()
	return l, lastStdout, hasStdout, nil
}

// reopenForAppend makes the log writable again at its end, for a line of
// the daemon's own (Append, then Finish): to the last segment's file when
// there is one, so that the line costs no new file.
func (l *Log) reopenForAppend() error {
	l.wmu.Lock() // finished and w are the writers' too
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished = false
	if len(l.segs) == 0 || l.w != nil {
		return nil
	}
	f, err := os.OpenFile(l.segs[len(l.segs)-1].path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reopen log segment: %w", err)
	}
	l.w = f
	return nil
}
