package process

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Tail returns the last max bytes of the selected streams, in order. It
// reads backwards from the end using the record trailers, so its cost is
// bounded by max, not by the size of the log. truncated reports whether
// older output exists that the tail leaves out.
func (l *Log) Tail(streams Stream, max int) (tail []byte, truncated bool, err error) {
	l.mu.Lock()
	segs := make([]segment, len(l.segs))
	for i, s := range l.segs {
		segs[i] = *s
	}
	dropped := l.dropped
	pendingLost := l.lost // lost, and not yet recorded in the files
	l.mu.Unlock()

	var parts []Chunk // newest first
	total := 0
	for i := len(segs) - 1; i >= 0 && total < max; i-- {
		more, err := tailSegment(&segs[i], streams, max-total, func(s Stream, p []byte) {
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
		if more || (i > 0 && total >= max) {
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

// tailSegment walks one segment backwards, giving at most want bytes of the
// selected streams to emit (newest first). It reports whether selected
// output remained that did not fit.
func tailSegment(seg *segment, streams Stream, want int, emit func(Stream, []byte)) (more bool, err error) {
	if seg.size == 0 {
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

	const window = 64<<10 + maxChunk + recordOverhead
	buf := make([]byte, 0, window)
	var bufStart int64   // file offset of buf[0]
	pos := seg.size      // end of the next record to read, in the file
	for pos > seg.head { // the segment-start record holds no output
		if want <= 0 {
			return true, nil
		}
		if pos-recordTrailerSize < bufStart || len(buf) == 0 {
			bufStart = max(0, pos-window)
			buf = buf[:pos-bufStart]
			if _, err := f.ReadAt(buf, bufStart); err != nil {
				return false, fmt.Errorf("read log segment %s: %w", seg.path, err)
			}
		}
		end := pos - bufStart
		n := int64(binary.LittleEndian.Uint32(buf[end-recordTrailerSize : end]))
		start := end - recordOverhead - n
		if n > maxChunk || start+bufStart < 0 {
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
