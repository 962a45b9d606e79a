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
	EOL    bool   // the line ended with a newline (else: a piece of a long line, or the last line)
}

// MaxLineLength bounds a line held back while waiting for its newline; a
// longer run without one is delivered in pieces of this size.
const MaxLineLength = 64 << 10

// LineReader frames a log by lines, per stream, for the wire formats that
// carry one line per message. A line is delivered once it is complete, or
// when the log ends (a final line without a newline is delivered too).
type LineReader struct {
	r     *Reader
	lines lineSplitter
	ready []Line
	out   []byte
	eof   bool
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

// LinePrefixes gives, per stream, what starts each framed line.
type LinePrefixes [Both + 1]string

// NextFramed is Next for high volumes: it takes the next chunk of output
// and appends each line it completes to dst as the stream's prefix, the
// text and a newline (pieces of a long line and a last line without a
// newline get one too), and returns dst. The lines are those Next gives,
// framed without a call or a copy per line beyond the one into dst. It
// waits like Next, and returns after a chunk (which may complete no line),
// io.EOF once everything was delivered, or ErrIdle. Do not mix it with
// Next on one reader.
func (lr *LineReader) NextFramed(ctx context.Context, idle time.Duration, dst []byte, prefix *LinePrefixes) ([]byte, error) {
	if lr.eof {
		return dst, io.EOF
	}
	c, err := lr.r.Next(ctx, true, idle)
	switch {
	case errors.Is(err, io.EOF):
		lr.eof = true
		return lr.lines.appendFlushed(dst, prefix), nil
	case err != nil:
		return dst, err
	}
	return lr.lines.appendFramed(dst, c, prefix), nil
}

func (lr *LineReader) split(c Chunk) {
	lr.out = lr.out[:0]
	lr.lines.split(c, lr.emit)
}

func (lr *LineReader) flushPending() { lr.lines.flush(lr.emit) }

// emit queues a copy of text: the sources are reused buffers.
func (lr *LineReader) emit(s Stream, text []byte, eol bool) {
	start := len(lr.out)
	lr.out = append(lr.out, text...)
	lr.ready = append(lr.ready, Line{Stream: s, Text: lr.out[start:len(lr.out):len(lr.out)], EOL: eol})
}

// lineSplitter cuts chunks of output into lines, per stream: a partial line
// of one stream waits for its newline while lines of the other go by, so
// lines of the two streams are never spliced together.
type lineSplitter struct {
	pending [3][]byte // indexed by Stream: partial lines awaiting a newline
}

// emitFunc receives a line; eol tells whether it ended with a newline.
type emitFunc func(s Stream, text []byte, eol bool)

func (ls *lineSplitter) split(c Chunk, emit emitFunc) {
	if c.Dropped > 0 || c.Lost > 0 {
		ls.flush(emit)
		marker := DropMarker(c.Dropped)
		if c.Lost > 0 {
			marker = LossMarker(c.Lost)
		}
		emit(Stdout, []byte(marker[:len(marker)-1]), true)
		return
	}
	data := c.Data
	p := &ls.pending[c.Stream&Both]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			*p = append(*p, data...)
			emitPieces(c.Stream, p, emit)
			return
		}
		if len(*p) > 0 || i > MaxLineLength {
			// Through pending, so a long line is cut into the same pieces
			// whatever the size of the chunk that brought it.
			*p = append(*p, data[:i]...)
			emitPieces(c.Stream, p, emit)
			emit(c.Stream, *p, true)
			*p = (*p)[:0]
		} else {
			emit(c.Stream, data[:i], true)
		}
		data = data[i+1:]
	}
}

// emitPieces delivers the start of a pending line longer than MaxLineLength
// in pieces of MaxLineLength, keeping the rest (1 to MaxLineLength bytes)
// pending: a piece is cut only once more of the line follows it, so a line
// of exactly MaxLineLength stays whole, and the pieces do not depend on how
// the output was chunked.
func emitPieces(s Stream, p *[]byte, emit emitFunc) {
	for len(*p) > MaxLineLength {
		emit(s, (*p)[:MaxLineLength], false)
		*p = append((*p)[:0], (*p)[MaxLineLength:]...)
	}
}

// flush delivers the partial lines still waiting, stdout first.
func (ls *lineSplitter) flush(emit emitFunc) {
	for _, s := range []Stream{Stdout, Stderr} {
		if p := ls.pending[s]; len(p) > 0 {
			emit(s, p, false)
			ls.pending[s] = p[:0]
		}
	}
}

// appendFramed appends the lines split would emit for c to dst, each as
// prefix, text and newline. Whole lines of at most MaxLineLength take a
// fast path, copied to dst with their newline as they are; a line that
// completes a pending one, a long line and the partial line at the end go
// through split.
func (ls *lineSplitter) appendFramed(dst []byte, c Chunk, prefix *LinePrefixes) []byte {
	if c.Dropped > 0 || c.Lost > 0 {
		ls.split(c, framedEmit(&dst, prefix))
		return dst
	}
	data := c.Data
	if len(ls.pending[c.Stream&Both]) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			ls.split(c, framedEmit(&dst, prefix))
			return dst
		}
		ls.split(Chunk{Stream: c.Stream, Data: data[:i+1]}, framedEmit(&dst, prefix))
		data = data[i+1:]
	}
	pre := prefix[c.Stream&Both]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 || i > MaxLineLength {
			break
		}
		dst = append(dst, pre...)
		dst = append(dst, data[:i+1]...)
		data = data[i+1:]
	}
	if len(data) > 0 {
		ls.split(Chunk{Stream: c.Stream, Data: data}, framedEmit(&dst, prefix))
	}
	return dst
}

// appendFlushed appends the partial lines still waiting, framed, to dst.
func (ls *lineSplitter) appendFlushed(dst []byte, prefix *LinePrefixes) []byte {
	ls.flush(framedEmit(&dst, prefix))
	return dst
}

func framedEmit(dst *[]byte, prefix *LinePrefixes) emitFunc {
	return func(s Stream, text []byte, _ bool) {
		*dst = append(*dst, prefix[s]...)
		*dst = append(*dst, text...)
		*dst = append(*dst, '\n')
	}
}

// writeLines returns an emitFunc that writes lines to w as they were
// written, newline included, keeping the first write error in *err. When
// the stream changes after a line that had no newline (a piece of a long
// line, or a last line), a newline is put in between so that the two never
// read as one line.
func writeLines(w io.Writer, err *error) emitFunc {
	nl := []byte{'\n'}
	var open bool // the last text written did not end its line
	var last Stream
	return func(s Stream, text []byte, eol bool) {
		if *err != nil {
			return
		}
		if open && s != last {
			if _, *err = w.Write(nl); *err != nil {
				return
			}
		}
		if _, *err = w.Write(text); *err == nil && eol {
			_, *err = w.Write(nl)
		}
		open, last = !eol, s
	}
}
