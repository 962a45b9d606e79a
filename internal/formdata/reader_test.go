package formdata

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
)

// sdkForm is the body @blaxel/core's writeBinary sends: the file, then
// its permissions, then its path.
func sdkForm(t *testing.T, data []byte) (body []byte, boundary string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", "test-binary.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.WriteField("permissions", "0644")
	w.WriteField("path", "/tmp/x y#z")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.Boundary()
}

// patterned is n bytes that hold every byte value, CR and LF included,
// and lines that look like boundaries.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	for i := 4096; i+40 < n; i += 65536 {
		copy(b[i:], "\r\n--not-the-boundary\r\n")
	}
	return b
}

// sizedWrites records the size of every write.
type sizedWrites struct {
	bytes.Buffer
	sizes []int
}

func (s *sizedWrites) Write(p []byte) (int, error) {
	s.sizes = append(s.sizes, len(p))
	return s.Buffer.Write(p)
}

func TestSDKFormFieldsInOrder(t *testing.T) {
	data := patterned(3<<20 + 17)
	body, boundary := sdkForm(t, data)
	// The body as a chunked HTTP body arrives: in pieces of 32 KiB.
	r := NewReader(iotest.HalfReader(bytes.NewReader(body)), boundary)
	p, err := r.NextPart()
	if err != nil || p.FormName() != "file" || p.FileName() != "test-binary.bin" {
		t.Fatalf("first field: %v, %v", p, err)
	}
	var file sizedWrites
	if n, err := p.WriteTo(&file); err != nil || n != int64(len(data)) || !bytes.Equal(file.Bytes(), data) {
		t.Fatalf("file field: %d bytes, %v; equal %v", n, err, bytes.Equal(file.Bytes(), data))
	}
	// Few, large writes: each but the last fills most of the buffer.
	for i, s := range file.sizes[:len(file.sizes)-1] {
		if s < BufferSize/2 {
			t.Fatalf("write %d of %d is %d bytes, want at least %d: %v", i, len(file.sizes), s, BufferSize/2, file.sizes)
		}
	}
	for _, want := range [][2]string{{"permissions", "0644"}, {"path", "/tmp/x y#z"}} {
		p, err := r.NextPart()
		if err != nil || p.FormName() != want[0] {
			t.Fatalf("field %s: %v, %v", want[0], p, err)
		}
		if got, err := io.ReadAll(p); err != nil || string(got) != want[1] {
			t.Fatalf("field %s = %q, %v", want[0], got, err)
		}
	}
	if _, err := r.NextPart(); err != io.EOF {
		t.Fatalf("after the last field: %v, want io.EOF", err)
	}
}

// A boundary split across reads, down to one byte per read, is found.
func TestBoundarySplitAcrossReads(t *testing.T) {
	data := patterned(10000)
	body, boundary := sdkForm(t, data)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(body)), boundary)
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := p.WriteTo(&got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("file field: %d bytes, %v", got.Len(), err)
	}
	p, err = r.NextPart()
	if err != nil || p.FormName() != "permissions" {
		t.Fatalf("next field: %v, %v", p, err)
	}
}

// Skipped fields, read or not, do not disturb the next one.
func TestNextPartSkipsTheRest(t *testing.T) {
	body, boundary := sdkForm(t, patterned(BufferSize*3))
	r := NewReader(bytes.NewReader(body), boundary)
	p, _ := r.NextPart()
	io.ReadFull(p, make([]byte, 1000))
	for _, want := range []string{"permissions", "path"} {
		if p, err := r.NextPart(); err != nil || p.FormName() != want {
			t.Fatalf("want %s: %v, %v", want, p, err)
		}
	}
}

// A body that ends inside a field, or inside the boundary after it, is
// an error, never a shorter field.
func TestCutShortField(t *testing.T) {
	body, boundary := sdkForm(t, patterned(100000))
	end := bytes.Index(body[10:], []byte("\r\n--"+boundary)) + 10
	for _, cut := range []int{60000, end, end + 1, end + 4} {
		r := NewReader(bytes.NewReader(body[:cut]), boundary)
		p, err := r.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		if _, err = p.WriteTo(io.Discard); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

// The body reader's own failure (a stalled client, a body over its
// limit) stays reachable, for the status it answers.
func TestBodyReaderErrorIsKept(t *testing.T) {
	stalled := errors.New("nothing received")
	body, boundary := sdkForm(t, patterned(100000))
	src := io.MultiReader(bytes.NewReader(body[:50000]), iotest.ErrReader(stalled))
	r := NewReader(src, boundary)
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteTo(io.Discard); !errors.Is(err, stalled) {
		t.Fatalf("WriteTo: %v, want the body's error", err)
	}
	if _, err := r.NextPart(); !errors.Is(err, stalled) {
		t.Fatalf("NextPart: %v, want the body's error", err)
	}
}

// An error of the destination is returned as it is.
func TestWriteToKeepsTheWritersError(t *testing.T) {
	full := errors.New("disk full")
	body, boundary := sdkForm(t, patterned(BufferSize*2))
	r := NewReader(bytes.NewReader(body), boundary)
	p, _ := r.NextPart()
	if _, err := p.WriteTo(failingWriter{full}); err != full {
		t.Fatalf("WriteTo: %v, want the writer's own error", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestHeaderBound(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Big: " + strings.Repeat("x", MaxHeaderSize) + "\r\n\r\nv\r\n--b--\r\n"
	if _, err := NewReader(strings.NewReader(body), "b").NextPart(); !errors.Is(err, ErrHeaderTooLarge) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("NextPart: %v, want ErrHeaderTooLarge", err)
	}
}

func TestMalformedBodies(t *testing.T) {
	for name, body := range map[string]string{
		"garbage":              "garbage",
		"no last boundary":     "--b\r\n\r\nv\r\n",
		"junk after boundary":  "--b\r\n\r\nv\r\n--b junk\r\n\r\nw\r\n--b--",
		"a line too long":      strings.Repeat("p", maxLineSize) + "\r\n--b\r\n\r\nv\r\n--b--",
		"bad header":           "--b\r\nno colon\r\n\r\nv\r\n--b--",
		"boundary too long":    "--" + strings.Repeat("b", maxLineSize),
		"empty boundary value": "",
	} {
		boundary := "b"
		switch name {
		case "boundary too long":
			boundary = strings.Repeat("b", maxLineSize)
		case "empty boundary value":
			boundary = ""
		}
		r := NewReader(strings.NewReader(body), boundary)
		var err error
		for err == nil {
			var p *Part
			if p, err = r.NextPart(); err == nil {
				_, err = p.WriteTo(io.Discard)
			}
		}
		if err == io.EOF {
			t.Errorf("%s: accepted", name)
		}
	}
}

// mime/multipart's leniencies are kept: a preamble, a first boundary line
// ending in "\n" (then "\n" throughout), blanks after a boundary, an
// empty field right after its headers, a quoted-printable field.
func TestLeniencies(t *testing.T) {
	body := "preamble\r\n--b \t\nContent-Transfer-Encoding: quoted-printable\n\na=3Db=\n c\n--b\n\n--b--\nepilogue"
	r := NewReader(strings.NewReader(body), "b")
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(p); err != nil || string(got) != "a=b c" || p.Header.Get("Content-Transfer-Encoding") != "" {
		t.Fatalf("quoted-printable field = %q, %v, header %v", got, err, p.Header)
	}
	p, err = r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(p); err != nil || len(got) != 0 {
		t.Fatalf("empty field = %q, %v", got, err)
	}
	if _, err := r.NextPart(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}
