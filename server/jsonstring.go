package server

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"unicode/utf8"
)

// jsonStringWriter writes the bytes given to it as the inside of a JSON
// string, so output of any size can be put in a JSON document without being
// held in memory. Invalid UTF-8 becomes U+FFFD, as encoding/json does; a
// character split across writes is carried to the next one.
type jsonStringWriter struct {
	w     io.Writer
	buf   []byte
	carry []byte
}

// jsonStringFlushAt is how much escaped text is gathered before it is
// handed on. The buffer starts at the size of the first write, so the many
// empty or short outputs of a process answer cost no large allocation.
const jsonStringFlushAt = 32 << 10

func newJSONStringWriter(w io.Writer) *jsonStringWriter {
	return &jsonStringWriter{w: w}
}

const hexDigits = "0123456789abcdef"

func (j *jsonStringWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(j.carry) > 0 {
		p = append(j.carry, p...)
		j.carry = nil
	}
	// Room for the write with some escapes, up to the flush size; grown
	// by doubling, so that many small writes reallocate a few times only.
	if want := min(len(j.buf)+len(p)+len(p)/8+16, jsonStringFlushAt); cap(j.buf) < want {
		j.buf = append(make([]byte, 0, min(max(want, 2*cap(j.buf)), jsonStringFlushAt)), j.buf...)
	}
	for len(p) > 0 {
		if len(j.buf)+jsonEscapeRoom >= cap(j.buf) {
			if err := j.flush(); err != nil {
				return 0, err
			}
		}
		var k int
		j.buf, k = appendJSONEscaped(j.buf, p, cap(j.buf))
		if p = p[k:]; len(p) > 0 && len(j.buf)+jsonEscapeRoom < cap(j.buf) {
			// Not stopped by the buffer: by a character the next write
			// completes.
			j.carry = append([]byte(nil), p...)
			break
		}
	}
	if len(j.buf) >= 16<<10 {
		if err := j.flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// appendJSONString appends p as the inside of a JSON string, whole: a
// character cut by the end of p becomes U+FFFD.
func appendJSONString(dst, p []byte) []byte {
	for len(p) > 0 {
		// Room enough for most text; escapes that need more take turns.
		limit := len(dst) + len(p) + len(p)/8 + jsonEscapeRoom + 1
		var k int
		dst, k = appendJSONEscaped(dst, p, limit)
		if p = p[k:]; len(p) > 0 && len(dst)+jsonEscapeRoom < limit {
			return append(dst, `\ufffd`...) // stopped by the cut character
		}
	}
	return dst
}

// jsonEscapeRoom is the room appendJSONEscaped needs for its next step: the
// longest escape, or more of a run.
const jsonEscapeRoom = 8

// appendJSONEscaped appends p to dst as the inside of a JSON string while
// dst has room for it below limit, and returns dst and the bytes of p it
// took. It stops early at the start of a character that p ends before
// completing. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONEscaped(dst, p []byte, limit int) ([]byte, int) {
	// Where the next quote and backslash are, each looked up (with the
	// vector search of bytes.IndexByte) once passed: text seldom has them.
	// A lookup goes no further than this call can take bytes: each byte
	// taken adds one byte to dst at least, so the room runs out before i
	// reaches the end of the window, and a quote or backslash "found" at
	// that end is never acted on. Run to the end of a write larger than
	// the buffer, a lookup read the write again for each buffer it filled.
	quote, backslash := -1, -1
	i := 0
	for i < len(p) && len(dst)+jsonEscapeRoom < limit {
		if quote < i || backslash < i {
			window := p[:min(len(p), i+limit-len(dst))]
			if quote < i {
				quote = indexFrom(window, i, '"')
			}
			if backslash < i {
				backslash = indexFrom(window, i, '\\')
			}
		}
		// A run of plain characters, no longer than the room left.
		end := min(quote, backslash, i+limit-len(dst)-jsonEscapeRoom)
		k := plainRun(p[i:end])
		dst = append(dst, p[i:i+k]...)
		if i += k; i == len(p) || i == end && i < quote && i < backslash {
			continue // the end, or no more room
		}
		b := p[i]
		if b < utf8.RuneSelf {
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			return dst, i
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
		default:
			dst = append(dst, p[i:i+size]...)
		}
		i += size
	}
	return dst, i
}

// indexFrom is the index of the first c in p from i on, len(p) if none.
func indexFrom(p []byte, i int, c byte) int {
	if k := bytes.IndexByte(p[i:], c); k >= 0 {
		return i + k
	}
	return len(p)
}

// plainRun is the length of the start of p that has neither control
// characters nor bytes of 0x80 and up (quotes and backslashes are the
// caller's). It tests sixteen bytes at a time, then finds the byte that
// stopped it eight at a time: output is mostly such text, and a test of
// each byte was a quarter of a streamed exec's CPU.
func plainRun(p []byte) int {
	const (
		ones  = 0x0101010101010101
		low7  = 0x7f * ones
		highs = 0x80 * ones
	)
	i := 0
	// Sliced as it goes rather than indexed, so that the compiler can
	// tell each load is in bounds (a third of the loop's time, checked).
	for q := p; len(q) >= 16; q = q[16:] {
		x := binary.LittleEndian.Uint64(q[:8])
		y := binary.LittleEndian.Uint64(q[8:16])
		// A high bit: a byte of 0x80 or more, or (by the borrow) one
		// below 0x20. Exact about whether there is one, not where.
		if (x|(x-0x20*ones)|y|(y-0x20*ones))&highs != 0 {
			break
		}
		i += 16
	}
	for q := p[i:]; len(q) >= 8; q = q[8:] {
		x := binary.LittleEndian.Uint64(q[:8])
		// Each byte on its own, no borrow between them: +0x60 on the
		// low seven bits leaves the high bit clear below 0x20 only.
		if stop := x&highs | ^(x&low7+0x60*ones)&highs; stop != 0 {
			return i + bits.TrailingZeros64(stop)/8
		}
		i += 8
	}
	for i < len(p) && p[i] >= 0x20 && p[i] < utf8.RuneSelf {
		i++
	}
	return i
}

func (j *jsonStringWriter) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	_, err := j.w.Write(j.buf)
	j.buf = j.buf[:0]
	return err
}

// Close writes what is left; an unfinished character becomes U+FFFD.
func (j *jsonStringWriter) Close() error {
	if len(j.carry) > 0 {
		j.buf = append(j.buf, `\ufffd`...)
		j.carry = nil
	}
	return j.flush()
}
