package server

import (
	"encoding/binary"
	"io"
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
	if j.buf == nil {
		// Room for the write with some escapes, up to the flush size.
		j.buf = make([]byte, 0, min(len(p)+len(p)/8+16, jsonStringFlushAt))
	}
	if len(j.carry) > 0 {
		p = append(j.carry, p...)
		j.carry = nil
	}
	for i := 0; i < len(p); {
		b := p[i]
		if b < utf8.RuneSelf {
			switch {
			case b >= 0x20 && b != '"' && b != '\\':
				// A run of plain characters, no longer than the buffer has
				// room for: memory stays bounded whatever the write's size.
				start, end := i, min(len(p), i+max(jsonStringFlushAt-len(j.buf), 1))
				i += plainRun(p[i:end])
				j.buf = append(j.buf, p[start:i]...)
				if err := j.flushIfFull(); err != nil {
					return 0, err
				}
				continue
			case b == '"' || b == '\\':
				j.buf = append(j.buf, '\\', b)
			case b == '\n':
				j.buf = append(j.buf, '\\', 'n')
			case b == '\r':
				j.buf = append(j.buf, '\\', 'r')
			case b == '\t':
				j.buf = append(j.buf, '\\', 't')
			default:
				j.buf = append(j.buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
		} else {
			if !utf8.FullRune(p[i:]) {
				j.carry = append([]byte(nil), p[i:]...)
				break
			}
			r, size := utf8.DecodeRune(p[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				j.buf = append(j.buf, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				j.buf = append(j.buf, `\u202`...)
				j.buf = append(j.buf, hexDigits[r&0xf])
			default:
				j.buf = append(j.buf, p[i:i+size]...)
			}
			i += size
		}
		if err := j.flushIfFull(); err != nil {
			return 0, err
		}
	}
	if len(j.buf) >= 16<<10 {
		if err := j.flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// flushIfFull hands the text on once the buffer is (nearly) full; an
// escape adds at most 6 bytes.
func (j *jsonStringWriter) flushIfFull() error {
	if len(j.buf) >= jsonStringFlushAt-8 {
		return j.flush()
	}
	return nil
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

// plainRun is the length of the start of p that goes into a JSON string as
// it is: ASCII from 0x20, quote and backslash excepted. It tests eight
// bytes at a time (output is mostly such text, and a byte at a time was a
// quarter of a streamed exec's CPU), then finishes byte by byte.
func plainRun(p []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		quote, backslash := x^('"'*ones), x^('\\'*ones)
		// A high bit in any term marks a byte to stop at: one of 0x80 and
		// up, one below 0x20, or a zero byte after the XOR (a quote or a
		// backslash). Each term is exact about whether such a byte exists.
		stop := x | (x - 0x20*ones) | (quote-ones)&^quote | (backslash-ones)&^backslash
		if stop&highs != 0 {
			break
		}
	}
	for i < len(p) && p[i] >= 0x20 && p[i] < utf8.RuneSelf && p[i] != '"' && p[i] != '\\' {
		i++
	}
	return i
}
