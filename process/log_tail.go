package process

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Tail returns the last max bytes of the selected streams, in order. It
// reads backwards from the end using the record trailers, and for one
// stream only the stretches its index (log_tail_index.go) says hold its
// output, so its cost is bounded by max, not by the size of the log.
// truncated reports whether older output exists that the tail leaves out.
func (l *Log) Tail(streams Stream, max int) (tail []byte, truncated bool, err error) {
	l.mu.Lock()
	ranges, pruned := l.tailRangesLocked(streams, max)
	dropped := l.dropped
	pendingLost := l.lost // lost, and not yet recorded in the files
	l.mu.Unlock()

	var parts []Chunk // newest first
	total := 0
	for i, r := range ranges {
		if total >= max {
			break
		}
		more, err := tailRange(r, streams, max-total, func(s Stream, p []byte) {
			if s == lossMark {
				parts = append(parts, Chunk{Lost: int64(binary.LittleEndian.Uint64(p))})
				return
			}
			parts = append(parts, Chunk{Stream: s, Data: p})
			total += len(p)
		})
		if err != nil {
			return nil, false, err
		}
		if more || (total >= max && (pruned || olderOutput(ranges[i+1:]))) {
			truncated = true
		}
	}
	if dropped > 0 {
		truncated = true
	}
	if pendingLost > 0 {
		parts = append([]Chunk{{Lost: pendingLost}}, parts...) // newest first
	}
	out := bytes.NewBuffer(make([]byte, 0, total+len(parts)))
	var werr error
	emit := writeLines(out, &werr)
	var lines lineSplitter // both streams interleave by line, as in Copy
	for i := len(parts) - 1; i >= 0; i-- {
		switch {
		case streams == Both:
			lines.split(parts[i], emit)
		case parts[i].Lost > 0:
			if n := out.Len(); n > 0 && out.Bytes()[n-1] != '\n' {
				out.WriteByte('\n') // the marker is a line of its own
			}
			out.WriteString(LossMarker(parts[i].Lost))
		default:
			out.Write(parts[i].Data)
		}
	}
	lines.flush(emit)
	return out.Bytes(), truncated, nil
}

// logRange is a stretch [lo, hi) of a segment's file, whole records.
type logRange struct {
	seg    segment
	lo, hi int64
	empty  bool // known to hold none of the selected output (a run of loss records)
}

// olderOutput tells whether any of ranges may hold selected output.
func olderOutput(ranges []logRange) bool {
	for _, r := range ranges {
		if !r.empty {
			return true
		}
	}
	return false
}

// tailRangesLocked lists what a tail of streams reads, newest first: for
// one stream and a tail the index serves, its runs, then the segments'
// stretches below the index's from; otherwise every segment whole. pruned
// tells that the stream has older output than the runs cover.
func (l *Log) tailRangesLocked(streams Stream, max int) (ranges []logRange, pruned bool) {
	below := l.end // what is walked whole: everything below it
	if (streams == Stdout || streams == Stderr) && max <= tailIndexBytes {
		x := &l.tails[streams-1]
		for i := len(x.runs) - 1; i >= 0; i-- {
			run := x.runs[i]
			seg := l.segmentBasedLocked(run.SegBase)
			if seg == nil {
				break // removed by a cap, as is everything older
			}
			ranges = append(ranges, logRange{*seg, run.Start - seg.base, run.End - seg.base, run.Data == 0})
		}
		below, pruned = x.from, x.pruned
	}
	for i := len(l.segs) - 1; i >= 0; i-- {
		if seg := l.segs[i]; seg.base < below {
			ranges = append(ranges, logRange{*seg, 0, min(seg.size, below-seg.base), false})
		}
	}
	return ranges, pruned
}

// segmentBasedLocked is the retained segment whose base is base, or nil.
func (l *Log) segmentBasedLocked(base int64) *segment {
	for i := len(l.segs) - 1; i >= 0; i-- {
		if l.segs[i].base == base {
			return l.segs[i]
		}
	}
	return nil
}

// tailRange walks a range of one segment backwards, giving at most want
// bytes of the selected streams to emit (newest first). It reports
// whether selected output remained that did not fit.
func tailRange(r logRange, streams Stream, want int, emit func(Stream, []byte)) (more bool, err error) {
	seg := &r.seg
	lo := max(r.lo, seg.head) // the segment-start record holds no output
	if r.hi <= lo {
		return false, nil
	}
	f, err := os.Open(seg.path)
	if os.IsNotExist(err) {
		return false, nil // dropped meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("open log segment: %w", err)
	}
	defer f.Close()

	// A read takes the bytes wanted and a whole record more (it may end
	// inside one), up to 64 KiB of them, and never more than the range: a
	// small tail (a list's) or a small log reads little, a large tail
	// reads again as it goes.
	window := min(int64(min(want, 64<<10)+maxChunk+recordOverhead), r.hi-lo)
	buf := make([]byte, 0, window)
	var bufStart int64 // file offset of buf[0]
	pos := r.hi        // end of the next record to read, in the file
	for pos > lo {
		if want <= 0 {
			return true, nil
		}
		if pos-recordTrailerSize < bufStart || len(buf) == 0 {
			bufStart = max(lo, pos-window)
			buf = buf[:pos-bufStart]
			if _, err := f.ReadAt(buf, bufStart); err != nil {
				return false, fmt.Errorf("read log segment %s: %w", seg.path, err)
			}
		}
		end := pos - bufStart
		n := int64(binary.LittleEndian.Uint32(buf[end-recordTrailerSize : end]))
		start := end - recordOverhead - n
		if n > maxChunk || start+bufStart < lo {
			return false, fmt.Errorf("corrupt log record before offset %d of %s", pos, seg.path)
		}
		if start < 0 { // record straddles the window: reload ending at pos
			buf = buf[:0]
			continue
		}
		if s := Stream(buf[start]); s == lossMark && n == 8 {
			emit(s, append([]byte(nil), buf[start+recordHeaderSize:start+recordHeaderSize+n]...))
		} else if s&streams != 0 {
			data := buf[start+recordHeaderSize : start+recordHeaderSize+n]
			if len(data) > want {
				data = data[len(data)-want:]
				more = true
			}
			emit(s, append([]byte(nil), data...))
			want -= len(data)
		}
		pos -= recordOverhead + n
	}
	return more, nil
}
