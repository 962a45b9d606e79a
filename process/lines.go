package process

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
)

// Line is one line of output, without its newline.
type Line struct {
	Stream Stream
	Text   []byte // valid until the next call to Next
}

// MaxLineLength bounds a line held back while waiting for its newline; a
// longer run without one is delivered in pieces of this size.
const MaxLineLength = 64 << 10

// LineReader frames a log by lines, per stream, for the wire formats that
// carry one line per message. A line is delivered once it is complete, or
// when the log ends (a final line without a newline is delivered too).
type LineReader struct {
	r       *Reader
	pending [3][]byte // indexed by Stream: partial lines awaiting a newline
	ready   []Line
	out     []byte
	eof     bool
}

// NewLineReader reads the whole log as lines, then follows it.
func (l *Log) NewLineReader() *LineReader {
	return &LineReader{r: l.NewReader()}
}

// Close releases the reader's file.
func (lr *LineReader) Close() { lr.r.Close() }

// Next returns the next line, waiting for output like Reader.Next with
// follow set: io.EOF once the log is finished and every line was returned,
// ErrIdle after idle without a line (idle 0: no limit; idle < 0: at once
// when no whole line is available now).
func (lr *LineReader) Next(ctx context.Context, idle time.Duration) (Line, error) {
	for len(lr.ready) == 0 {
		if lr.eof {
			return Line{}, io.EOF
		}
		c, err := lr.r.Next(ctx, true, idle)
		switch {
		case errors.Is(err, io.EOF):
			lr.eof = true
			lr.flushPending()
			continue
		case err != nil:
			return Line{}, err
		}
		lr.split(c)
	}
	line := lr.ready[0]
	lr.ready = lr.ready[1:]
	if len(lr.ready) == 0 {
		lr.ready = lr.ready[:0]
		lr.out = lr.out[:0]
	}
	return line, nil
}

func (lr *LineReader) split(c Chunk) {
	lr.out = lr.out[:0]
	if c.Dropped > 0 {
		lr.flushPending()
		marker := DropMarker(c.Dropped)
		lr.emit(Stdout, []byte(marker[:len(marker)-1]))
		return
	}
	data := c.Data
	p := &lr.pending[c.Stream&Both]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			*p = append(*p, data...)
			lr.emitPieces(c.Stream, p)
			return
		}
		if len(*p) > 0 {
			*p = append(*p, data[:i]...)
			lr.emitPieces(c.Stream, p)
			lr.emit(c.Stream, *p)
			*p = (*p)[:0]
		} else {
			lr.emit(c.Stream, data[:i])
		}
		data = data[i+1:]
	}
}

// emitPieces delivers the start of a pending line longer than MaxLineLength
// in pieces of MaxLineLength, keeping the rest (1 to MaxLineLength bytes)
// pending: a piece is cut only once more of the line follows it, so a line
// of exactly MaxLineLength stays whole, and the pieces do not depend on how
// the output was chunked.
func (lr *LineReader) emitPieces(s Stream, p *[]byte) {
	for len(*p) > MaxLineLength {
		lr.emit(s, (*p)[:MaxLineLength])
		*p = append((*p)[:0], (*p)[MaxLineLength:]...)
	}
}

func (lr *LineReader) flushPending() {
	for _, s := range []Stream{Stdout, Stderr} {
		if p := lr.pending[s]; len(p) > 0 {
			lr.emit(s, p)
			lr.pending[s] = p[:0]
		}
	}
}

// emit queues a copy of text: the sources are reused buffers.
func (lr *LineReader) emit(s Stream, text []byte) {
	start := len(lr.out)
	lr.out = append(lr.out, text...)
	lr.ready = append(lr.ready, Line{Stream: s, Text: lr.out[start:len(lr.out):len(lr.out)]})
}
