package formdata

import (
	"bytes"
	"io"
	"mime"
	"net/textproto"
	"path/filepath"
)

// Part is one field of the body. Its bytes are read with Read or WriteTo,
// and end with io.EOF at the boundary that follows them; a body that ends
// or fails before that boundary is an error (io.ErrUnexpectedEOF, or the
// body reader's own error).
type Part struct {
	// Header is the field's headers. A quoted-printable field has its
	// Content-Transfer-Encoding removed, and is decoded as it is read.
	Header textproto.MIMEHeader

	r       *Reader
	decoded io.Reader // the quoted-printable decoder, when the field is so encoded
	taken   int64     // bytes of the field handed out
	// pending bytes at the front of r's buffer are the field's for
	// certain, not handed out yet.
	pending int
	// end is set once the field's last byte is in pending: io.EOF at a
	// boundary, or the error that cut the body short.
	end error
}

// FormName is the field's name in its Content-Disposition, when that is
// form-data; "" otherwise.
func (p *Part) FormName() string {
	disposition, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil || disposition != "form-data" {
		return ""
	}
	return params["name"]
}

// FileName is the base name of the file the field carries, from its
// Content-Disposition; "" when there is none.
func (p *Part) FileName() string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] == "" {
		return ""
	}
	return filepath.Base(params["filename"])
}

// Read reads the field's bytes.
func (p *Part) Read(b []byte) (int, error) {
	if p.decoded != nil {
		return p.decoded.Read(b)
	}
	return p.readRaw(b)
}

// WriteTo writes the rest of the field to w, in pieces of up to the
// Reader's whole buffer, straight from it. An error of w is returned as
// it is.
func (p *Part) WriteTo(w io.Writer) (int64, error) {
	if p.decoded != nil {
		// Rare (browsers and SDKs send binary fields as they are): the
		// decoder hands out small pieces anyway.
		return io.CopyBuffer(w, struct{ io.Reader }{p.decoded}, make([]byte, 32<<10))
	}
	r := p.r
	var written int64
	for {
		more := p.scan()
		// Write once the field is over, or when the buffer must make
		// room: few, large writes.
		if p.pending > 0 && (p.end != nil || len(r.buf)-r.end < len(r.buf)/4) {
			n, err := w.Write(r.buf[r.start : r.start+p.pending])
			p.take(n)
			written += int64(n)
			if err != nil {
				return written, err
			}
			if n < p.pending {
				return written, io.ErrShortWrite
			}
		}
		if p.pending == 0 && p.end != nil {
			if p.end == io.EOF {
				return written, nil
			}
			return written, p.end
		}
		if more {
			r.readMore()
		}
	}
}

// readRaw reads the field's bytes as they are in the body.
func (p *Part) readRaw(b []byte) (int, error) {
	for p.pending == 0 {
		if p.end != nil {
			return 0, p.end
		}
		if p.scan() {
			p.r.readMore()
		}
	}
	n := copy(b, p.r.buf[p.r.start:p.r.start+p.pending])
	p.take(n)
	return n, nil
}

// take hands out n pending bytes.
func (p *Part) take(n int) {
	p.r.start += n
	p.pending -= n
	p.taken += int64(n)
}

// discard drops the rest of the field, so that the next one can be read.
func (p *Part) discard() {
	for {
		more := p.scan()
		p.take(p.pending)
		if p.end != nil {
			return
		}
		if more {
			p.r.readMore()
		}
	}
}

// rawPart reads a field as it is in the body, beneath its decoder.
type rawPart struct{ p *Part }

func (rp rawPart) Read(b []byte) (int, error) { return rp.p.readRaw(b) }

// scan looks at the buffered bytes after the pending ones, adds to
// pending those that are the field's for certain, and sets end once the
// field's last byte is known. It reports whether more of the body must be
// read to go on.
func (p *Part) scan() (more bool) {
	if p.end != nil {
		return false
	}
	r := p.r
	n, s := scanField(r.buf[r.start+p.pending:r.end], r.dash, r.delim, p.taken+int64(p.pending) == 0, r.srcErr != nil)
	p.pending += n
	switch s {
	case atBoundary:
		p.end = io.EOF
	case cutShort:
		p.end = io.ErrUnexpectedEOF
		if r.srcErr != io.EOF {
			p.end = r.readFailure(r.srcErr, "in a field")
		}
	}
	return s == undecided
}

// fieldScan is what follows the bytes scanField found to be the field's.
type fieldScan int

const (
	undecided  fieldScan = iota // more of the body is needed to tell
	atBoundary                  // the boundary that ends the field
	cutShort                    // the end of the body, before any boundary
)

// scanField looks for the end of a field in b, bytes of the field's body
// not taken yet, and returns how many of them are the field's for certain
// and what follows those. A field ends at a newline, the dash and the
// boundary (delim), when that is followed by a blank, a newline, "--", or
// the end of the body; first is set when no byte of the field was taken,
// and then the dash alone also ends it (an empty field right after its
// headers). ended is set when the body has no more bytes than b. A tail of
// b that may be the start of delim is held back until more arrives; if
// nothing more does, it is not part of the field.
func scanField(b, dash, delim []byte, first, ended bool) (int, fieldScan) {
	from := 0
	if first {
		switch {
		case bytes.HasPrefix(b, dash):
			switch endsField(b[len(dash):], ended) {
			case yes:
				return 0, atBoundary
			case maybe:
				return 0, undecided
			}
			from = len(dash) // "--boundaryX" is the field's
		case bytes.HasPrefix(dash, b):
			if ended {
				return 0, cutShort
			}
			return 0, undecided
		}
	}
	for {
		i := indexDelim(b[from:], delim)
		if i < 0 {
			break
		}
		i += from
		switch endsField(b[i+len(delim):], ended) {
		case yes:
			return i, atBoundary
		case maybe:
			return i, undecided
		}
		from = i + len(delim)
	}
	held := 0
	if i := bytes.LastIndexByte(b[from:], delim[0]); i >= 0 && bytes.HasPrefix(delim, b[from+i:]) {
		held = len(b) - from - i
	}
	if ended {
		return len(b) - held, cutShort
	}
	return len(b) - held, undecided
}

// match is the answer of endsField.
type match int

const (
	no match = iota
	yes
	maybe // more bytes are needed
)

// endsField tells whether after, the bytes that follow a boundary
// candidate, make it the boundary that ends a field.
func endsField(after []byte, ended bool) match {
	if len(after) == 0 {
		if ended {
			return yes
		}
		return maybe
	}
	switch after[0] {
	case ' ', '\t', '\r', '\n':
		return yes
	case '-':
		switch {
		case len(after) > 1 && after[1] == '-':
			return yes
		case len(after) > 1:
			return no
		case ended:
			return no
		}
		return maybe
	}
	return no
}
