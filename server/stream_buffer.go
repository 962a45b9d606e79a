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
	return &streamBuffer{w: w, buf: make([]byte, 0, streamBufferSize)}
}

func (b *streamBuffer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.Flush(); err != nil {
			return 0, err
		}
		if len(p) >= cap(b.buf) { // large: straight through, no copy
			_, b.err = b.w.Write(p)
			if b.err != nil {
				return 0, b.err
			}
			return len(p), nil
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *streamBuffer) WriteString(s string) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(s) > cap(b.buf) {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	b.buf = append(b.buf, s...) // a string this large is no stream's data
	return len(s), nil
}

// Append lets fill append to the buffer, first writing out what it holds
// when less than need is left (need: what fill appends, at most, as a
// rule: one chunk of output, framed; more only grows the buffer once).
// The buffer is written out once it holds streamBufferSize.
func (b *streamBuffer) Append(need int, fill func(dst []byte) []byte) error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf)+need > cap(b.buf) {
		if err := b.Flush(); err != nil {
			return err
		}
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
