package formdata

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/textproto"
	"strconv"
	"strings"
)

const (
	// BufferSize is the memory a Reader holds, and the largest piece a
	// field's bytes are written in: large enough that a 256 MiB upload
	// costs about a thousand writes, small enough that thousands of
	// uploads at once stay within the daemon's means (a plain upload
	// copies its body through a buffer of the same size).
	BufferSize = 256 << 10
	// MaxHeaderSize bounds the headers of one field, blank line included.
	// Browsers and SDKs send a few hundred bytes.
	MaxHeaderSize = 16 << 10
	// maxLineSize bounds the boundary lines, and the lines before the
	// first one and between fields, as mime/multipart's 4 KiB buffer does:
	// so both refuse the same bodies.
	maxLineSize = 4096
	// maxEmptyReads ends a body whose reader keeps returning nothing
	// without an error, as bufio does.
	maxEmptyReads = 100
)

// Errors of malformed bodies; a failed read of the body itself is
// returned wrapped, so that errors.Is and errors.As still find it.
var (
	// ErrMalformed: the body is not a multipart/form-data body with the
	// given boundary.
	ErrMalformed = errors.New("malformed multipart body")
	// ErrHeaderTooLarge: the headers of a field are over MaxHeaderSize.
	ErrHeaderTooLarge error = malformedBy("the headers of a field are longer than " + strconv.Itoa(MaxHeaderSize) + " bytes")
)

// malformedBy is an ErrMalformed with its reason, made without fmt: the
// daemon makes ErrHeaderTooLarge as it starts (package initialisation),
// and fmt's first use there cost some 20 µs of every start.
type malformedBy string

func (m malformedBy) Error() string { return ErrMalformed.Error() + ": " + string(m) }
func (malformedBy) Unwrap() error   { return ErrMalformed }

// Reader reads the fields of one multipart/form-data body in order.
type Reader struct {
	src io.Reader
	// srcErr is the error that ended src (io.EOF at its end); once set,
	// src is not read again.
	srcErr error

	buf   []byte // BufferSize bytes; buf[start:end] is read and not taken yet
	start int
	end   int

	dash  []byte // "--" and the boundary: how a boundary line starts
	delim []byte // a newline then dash: where a field's bytes end
	// nl is "\r\n", or "\n" once the first boundary line ends that way
	// (against RFC 2046, but some clients do, and mime/multipart allows it).
	nl []byte

	fields int   // boundary lines seen
	part   *Part // the field being read
	err    error // a failure that ends the body for good
}

// NewReader reads a multipart/form-data body from src, whose fields are
// separated by boundary (the Content-Type's boundary parameter).
func NewReader(src io.Reader, boundary string) *Reader {
	d := []byte("\r\n--" + boundary)
	r := &Reader{src: src, dash: d[2:], delim: d, nl: d[:2]}
	switch {
	case boundary == "":
		r.err = fmt.Errorf("%w: the boundary is empty", ErrMalformed)
	case len(r.dash)+len("\n") > maxLineSize:
		// No boundary line could ever fit in a line.
		r.err = fmt.Errorf("%w: the boundary is longer than %d bytes", ErrMalformed, maxLineSize-len("--\n"))
	default:
		r.buf = make([]byte, BufferSize)
	}
	return r
}

// NextPart skips what is left of the current field and returns the next
// one; io.EOF after the last. Any other error is final.
func (r *Reader) NextPart() (*Part, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.part != nil {
		r.part.discard()
		r.part = nil
	}
	p, err := r.nextPart()
	if err != nil && err != io.EOF {
		r.err = err
	}
	return p, err
}

// nextPart reads lines up to the next boundary line: the preamble before
// the first one, the newline that ends a field's bytes, and after a
// boundary line the field's headers.
func (r *Reader) nextPart() (*Part, error) {
	afterField := false // the newline after a field's bytes was read
	for {
		line, err := r.readLine()
		if err == io.EOF && r.isLastLine(line) {
			return nil, io.EOF // the last boundary line, without its newline
		}
		if err != nil {
			return nil, r.readFailure(err, "looking for a boundary")
		}
		if r.isBoundaryLine(line) {
			r.fields++
			return r.readPart()
		}
		switch {
		case r.isLastLine(line):
			return nil, io.EOF // what follows is the epilogue, ignored
		case afterField:
			return nil, fmt.Errorf("%w: a boundary should follow the field, not %q", ErrMalformed, truncate(line))
		case r.fields == 0:
			continue // the preamble
		case bytes.Equal(line, r.nl):
			afterField = true
		default:
			return nil, fmt.Errorf("%w: unexpected line %q after a field", ErrMalformed, truncate(line))
		}
	}
}

// isBoundaryLine reports a line of the dash, optional blanks and a
// newline. The first one decides which newline the body uses.
func (r *Reader) isBoundaryLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dash)
	if !ok {
		return false
	}
	rest = trimBlanks(rest)
	if r.fields == 0 && len(rest) == 1 && rest[0] == '\n' {
		r.nl = r.nl[1:]
		r.delim = r.delim[1:]
	}
	return bytes.Equal(rest, r.nl)
}

// isLastLine reports the line that ends the fields: the dash, "--",
// optional blanks, then a newline or nothing.
func (r *Reader) isLastLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dash)
	if !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte("--")); !ok {
		return false
	}
	rest = trimBlanks(rest)
	return len(rest) == 0 || bytes.Equal(rest, r.nl)
}

// trimBlanks drops leading spaces and tabs.
func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// readLine takes the next line, newline included. At the end of the body
// it returns what is left with the error that ended it.
func (r *Reader) readLine() ([]byte, error) {
	for {
		avail := r.buf[r.start:r.end]
		if i := bytes.IndexByte(avail[:min(len(avail), maxLineSize)], '\n'); i >= 0 {
			r.start += i + 1
			return avail[:i+1], nil
		}
		if len(avail) >= maxLineSize {
			return nil, fmt.Errorf("%w: a line longer than %d bytes where a boundary was expected", ErrMalformed, maxLineSize)
		}
		if r.srcErr != nil {
			r.start = r.end
			return avail, r.srcErr
		}
		r.readMore()
	}
}

// readPart reads a field's headers, up to and including the blank line
// that ends them, and parses them with net/textproto.
func (r *Reader) readPart() (*Part, error) {
	size := 0
	for {
		if n, ok := headerEnd(r.buf[r.start:min(r.end, r.start+MaxHeaderSize)]); ok {
			size = n
			break
		}
		if r.end-r.start >= MaxHeaderSize {
			return nil, ErrHeaderTooLarge
		}
		if r.srcErr == io.EOF {
			return nil, r.headersCutShort()
		}
		if r.srcErr != nil {
			return nil, r.readFailure(r.srcErr, "in the headers of a field")
		}
		r.readMore()
	}
	header, err := parseHeader(r.buf[r.start : r.start+size])
	if err != nil {
		return nil, fmt.Errorf("%w: the headers of a field: %w", ErrMalformed, err)
	}
	r.start += size
	p := &Part{Header: header, r: r}
	const cte = "Content-Transfer-Encoding"
	if strings.EqualFold(header.Get(cte), "quoted-printable") {
		header.Del(cte)
		p.decoded = quotedprintable.NewReader(rawPart{p})
	}
	r.part = p
	return p, nil
}

// headersCutShort answers a body that ends inside a field's headers.
// mime/multipart takes it for the end of the fields (io.EOF) when what
// there is of the headers parses, and so does this package: the body's
// framing (Content-Length, the last chunk) says the client sent it all.
func (r *Reader) headersCutShort() error {
	_, err := parseHeader(r.buf[r.start:r.end])
	r.start = r.end
	switch {
	case err == io.EOF:
		return io.EOF
	case err != nil:
		return fmt.Errorf("%w: the headers of a field: %w", ErrMalformed, err)
	}
	return r.readFailure(io.EOF, "in the headers of a field") // unreachable: no blank line ends them
}

// parseHeader parses a field's headers with net/textproto through a
// buffer of maxLineSize, as mime/multipart does: the lines textproto is
// given are cut where they would be there, so that a body cut short in
// its headers is refused or accepted alike (see headersCutShort).
func parseHeader(block []byte) (textproto.MIMEHeader, error) {
	return textproto.NewReader(bufio.NewReaderSize(bytes.NewReader(block), maxLineSize)).ReadMIMEHeader()
}

// headerEnd finds the blank line ("\r\n" or "\n" alone) that ends the
// headers in b, and returns the length of the headers with it.
func headerEnd(b []byte) (int, bool) {
	for off := 0; off < len(b); {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return 0, false
		}
		if line := b[off : off+i+1]; len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return off + i + 1, true
		}
		off += i + 1
	}
	return 0, false
}

// readMore reads once from src into the free end of the buffer, after
// moving what is left to its front when little room remains. A Reader
// never asks for more while a full buffer is still undecided (no line,
// header or boundary is that long), so there is always room.
func (r *Reader) readMore() {
	if r.srcErr != nil {
		return
	}
	if r.start == r.end {
		r.start, r.end = 0, 0
	} else if len(r.buf)-r.end < len(r.buf)/4 && r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		r.srcErr = fmt.Errorf("%w: nothing decided in %d bytes", ErrMalformed, len(r.buf)) // unreachable, see above
		return
	}
	for range maxEmptyReads {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.srcErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.srcErr = io.ErrNoProgress
}

// readFailure is the error of a body that ended, or failed, where more
// was expected: the reader's own error stays reachable with errors.Is.
func (r *Reader) readFailure(err error, where string) error {
	if err == io.EOF {
		return fmt.Errorf("%w: the body ended %s: %w", ErrMalformed, where, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("reading the body %s: %w", where, err)
}

// truncate bounds what of the body goes into an error message.
func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
