package server

import "io"

// streamBuffer gathers what a stream writes until the stream would wait
// or it holds streamBufferSize, so that a client catching up on a fast
// process costs few large writes. Framing code appends to it directly
// (Append), without a second copy through a writer.
type streamBuffer struct {
	w   io.Writer
	buf []byte
	err error // the first write error: every later write fails with it
}

func newStreamBuffer(w io.Writer) *streamBuffer {
	return &streamBuffer{w: w}
}

// room makes room for n more bytes: the buffer grows, doubling from
// streamBufferStart, up to streamBufferSize; past that what it holds is
// written out first.
func (b *streamBuffer) room(n int) error {
	if len(b.buf)+n <= cap(b.buf) {
		return nil
	}
	if len(b.buf)+n > streamBufferSize {
		if err := b.Flush(); err != nil {
			return err
		}
		if n <= cap(b.buf) {
			return nil
		}
	}
	c := max(2*cap(b.buf), streamBufferStart)
	for c < len(b.buf)+n {
		c *= 2
	}
	grown := make([]byte, len(b.buf), min(c, max(streamBufferSize, len(b.buf)+n)))
	copy(grown, b.buf)
	b.buf = grown
	return nil
}

func (b *streamBuffer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) >= streamBufferSize { // large: straight through, no copy
		if err := b.Flush(); err != nil {
			return 0, err
		}
		if _, b.err = b.w.Write(p); b.err != nil {
			return 0, b.err
		}
		return len(p), nil
	}
	if err := b.room(len(p)); err != nil {
		return 0, err
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *streamBuffer) WriteString(s string) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if err := b.room(len(s)); err != nil {
		return 0, err
	}
	b.buf = append(b.buf, s...)
	return len(s), nil
}

// Append lets fill append to the buffer, after making room for need bytes
// (what fill appends, at most, as a rule: one chunk of output, framed;
// more only grows the buffer once). The buffer is written out once it
// holds streamBufferSize.
func (b *streamBuffer) Append(need int, fill func(dst []byte) []byte) error {
	if b.err != nil {
		return b.err
	}
	if err := b.room(need); err != nil {
		return err
	}
	b.buf = fill(b.buf)
	if len(b.buf) >= streamBufferSize {
		return b.Flush()
	}
	return nil
}

// Flush writes out what the buffer holds.
func (b *streamBuffer) Flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
	return b.err
}
