package process

import (
	"context"
	"errors"
	"io"
	"time"
	"unicode/utf8"
)

// MaxChunkData bounds the Data of a chunk from a ChunkReader: one log
// record plus the start of a character carried over from the record before.
const MaxChunkData = maxChunk + utf8.UTFMax - 1

// ChunkReader follows a log as the process wrote it, for the wire formats
// that carry output byte for byte (the streamed exec): joining the Data of
// one stream's chunks gives that stream's output exactly, partial lines and
// empty lines included. Chunks come in the order the output arrived, across
// both streams, each at most MaxChunkData bytes.
//
// A chunk never ends inside a UTF-8 character that the next bytes of its
// stream may complete: those 1 to 3 bytes are held back and start the
// stream's next chunk, so that a client decoding each chunk on its own
// never sees a character cut in two. Bytes that are not UTF-8 pass as they
// are. What a cap dropped or a full disk lost comes as a stdout chunk with
// the marker line, on a line of its own.
type ChunkReader struct {
	r     *Reader
	carry [Both + 1][]byte // per stream: the start of a character awaiting its end
	ready []Chunk          // chunks to return before reading on
	buf   []byte           // a carry joined with the record after it
	// stdoutOpen: the last stdout byte returned was not a newline, so a
	// marker needs one before it.
	stdoutOpen bool
	eof        bool
}

// NewChunkReader reads the whole log as chunks, then follows it.
func (l *Log) NewChunkReader() *ChunkReader {
	return &ChunkReader{r: l.NewReader()}
}

// Close releases the reader's file.
func (cr *ChunkReader) Close() { cr.r.Close() }

// Next returns the next chunk (Data is valid until the next call), waiting
// for output like Reader.Next with follow set: io.EOF once the log is
// finished and everything was returned, ErrIdle after idle without output
// (idle 0: no limit; idle < 0: at once when nothing is ready), or the
// context's error.
func (cr *ChunkReader) Next(ctx context.Context, idle time.Duration) (Chunk, error) {
	for {
		if len(cr.ready) > 0 {
			c := cr.ready[0]
			if cr.ready = cr.ready[1:]; len(cr.ready) == 0 {
				cr.ready = nil
			}
			return c, nil
		}
		if cr.eof {
			return Chunk{}, io.EOF
		}
		c, err := cr.r.Next(ctx, true, idle)
		switch {
		case errors.Is(err, io.EOF):
			cr.eof = true
			cr.releaseCarries() // the characters will never be completed
			continue
		case err != nil:
			return Chunk{}, err
		case c.Dropped > 0 || c.Lost > 0:
			// Output is missing here: what was carried cannot be completed
			// by what follows the gap.
			cr.releaseCarries()
			cr.ready = append(cr.ready, cr.markerChunk(c))
			continue
		}
		if out, ok := cr.cut(c); ok {
			return out, nil
		}
	}
}

// cut joins the stream's carry with c and holds back a character cut by
// the end of c. It reports false when nothing is left to return.
func (cr *ChunkReader) cut(c Chunk) (Chunk, bool) {
	s := c.Stream & Both
	data := c.Data
	if carried := cr.carry[s]; len(carried) > 0 {
		cr.buf = append(append(cr.buf[:0], carried...), data...)
		data = cr.buf
		cr.carry[s] = carried[:0]
	}
	if n := incompleteTail(data); n > 0 {
		cr.carry[s] = append(cr.carry[s], data[len(data)-n:]...)
		data = data[:len(data)-n]
	}
	if len(data) == 0 {
		return Chunk{}, false
	}
	cr.noteReturned(s, data)
	return Chunk{Stream: s, Data: data}, true
}

// releaseCarries queues what each stream holds back, stdout first, as it
// is.
func (cr *ChunkReader) releaseCarries() {
	for _, s := range []Stream{Stdout, Stderr} {
		if len(cr.carry[s]) > 0 {
			data := cr.carry[s]
			cr.carry[s] = nil // the queued chunk keeps this array
			cr.noteReturned(s, data)
			cr.ready = append(cr.ready, Chunk{Stream: s, Data: data})
		}
	}
}

func (cr *ChunkReader) noteReturned(s Stream, data []byte) {
	if s == Stdout {
		cr.stdoutOpen = data[len(data)-1] != '\n'
	}
}

// markerChunk turns a drop or loss notice into its marker line on stdout.
func (cr *ChunkReader) markerChunk(c Chunk) Chunk {
	marker := DropMarker(c.Dropped)
	if c.Lost > 0 {
		marker = LossMarker(c.Lost)
	}
	if cr.stdoutOpen {
		marker = "\n" + marker
	}
	cr.stdoutOpen = false
	return Chunk{Stream: Stdout, Data: []byte(marker)}
}

// incompleteTail is the length of the start of a UTF-8 character that ends
// b and that more bytes could complete; 0 when b ends on a character
// boundary, or with bytes no continuation could make valid.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		c := b[i]
		if c&0xC0 == 0x80 {
			continue // a continuation byte: look for the character's start
		}
		if c >= 0xC0 && !utf8.FullRune(b[i:]) {
			return len(b) - i
		}
		return 0
	}
	return 0
}
