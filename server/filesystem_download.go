package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// maxJSONFileBytes bounds a file read as JSON: the client parses it whole.
// Larger files are downloaded (Accept: application/octet-stream), which
// streams any size.
const maxJSONFileBytes = 64 << 20

// downloadChunk is how much is sent between two refreshes of the write
// deadline: a client that stops reading is dropped after
// streamWriteTimeout, and a fast one still gets sendfile.
const downloadChunk = 4 << 20

// jsonRead is a file ready to be answered as JSON: its content, and in
// info.Size that content's exact length, which the answer states first.
type jsonRead struct {
	file    *os.File
	info    filesystem.FileInfo
	content io.Reader
	release func() // gives back the heavy-read slot of a file read into memory
}

func (c *jsonRead) close() {
	c.file.Close()
	if c.release != nil {
		c.release()
	}
}

// openJSONRead opens the file p for a JSON read, as GET and HEAD both need
// before they answer. A file whose size is reported is streamed from the
// disk, at most maxJSONFileBytes. One whose size is unknown (the kernel's,
// see filesystem.SizeKnown) is read into memory, at most
// filesystem.MaxUnsizedRead, in a heavy-read slot held until close. Past
// either bound the answer is 413 pointing to the download, never content
// cut short. On any error it has answered and returns false.
func (h *filesystemHandlers) openJSONRead(w http.ResponseWriter, r *http.Request, p string) (*jsonRead, bool) {
	file, info, err := h.fs.OpenFile(p)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return nil, false
	}
	c := &jsonRead{file: file, info: info}
	if filesystem.SizeKnown(file, info) {
		if info.Size > maxJSONFileBytes {
			c.close()
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
				"%s is %d bytes, over the %d MiB limit of a JSON read: download it with Accept: application/octet-stream",
				info.Path, info.Size, maxJSONFileBytes>>20))
			return nil, false
		}
		c.content = io.LimitReader(file, info.Size)
		return c, true
	}
	if c.release, err = h.fs.WaitHeavyRead(r.Context()); err != nil {
		c.close()
		writeFailure(w, err) // the client left: only the access log reads it
		return nil, false
	}
	data, err := filesystem.ReadUnsized(file, filesystem.MaxUnsizedRead)
	switch {
	case errors.Is(err, filesystem.ErrTooLarge):
		c.close()
		writeError(w, fileRoutes.statusOf(err), fmt.Sprintf(
			"%s does not report its size (a file of the kernel) and reads past the %d MiB limit of a JSON read of such files: download it with Accept: application/octet-stream",
			info.Path, filesystem.MaxUnsizedRead>>20))
		return nil, false
	case err != nil:
		c.close()
		fileRoutes.writeFailure(w, err)
		return nil, false
	}
	c.info.Size = int64(len(data))
	c.content = bytes.NewReader(data)
	return c, true
}

// readJSON answers a file as FileWithContent. The content is streamed into
// the JSON string, so even a 64 MiB file costs no memory.
func (h *filesystemHandlers) readJSON(w http.ResponseWriter, r *http.Request, p string) {
	c, ok := h.openJSONRead(w, r, p)
	if !ok {
		return
	}
	defer c.close()
	info, content := c.info, c.content
	head, err := encodeJSON(fileInfoJSON(info))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	head = append(bytes.TrimSuffix(head, []byte("}\n")), `,"content":"`...)

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	out := deadlineWriter{w: w, rc: rc}
	sw := newJSONStringWriter(out)
	_, _ = out.Write(head)
	n, err := io.Copy(sw, content)
	if err == nil {
		err = sw.Close()
	}
	if err == nil && n != info.Size {
		err = io.ErrUnexpectedEOF // the file shrank while being read
	}
	if err != nil {
		// Cut the connection: a truncated body must not pass for the file.
		panic(http.ErrAbortHandler)
	}
	_, _ = out.Write([]byte("\"}\n"))
}

// deadlineWriter gives each write streamWriteTimeout to complete, so a
// client that stops reading is dropped instead of holding its handler.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return d.w.Write(p)
}

// download streams a file with http.ServeContent: Range, If-None-Match,
// If-Modified-Since, Content-Length, and sendfile for the bytes.
func (h *filesystemHandlers) download(w http.ResponseWriter, r *http.Request, p string) {
	file, info, err := h.fs.OpenFile(p)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	defer file.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", contentTypeOf(info.Name))
	hdr.Set("Content-Disposition", attachment(info.Name))
	dw := newDownloadWriter(w)
	defer dw.finish()
	if !filesystem.SizeKnown(file, info) {
		// Empty, or a kernel file whose size is unknown (0 in /proc, a
		// page in /sys): streamed to its end, no length, no ranges.
		// A file that cannot be read at all (/proc/self/mem) gets an error
		// answer, not a 200 cut short.
		br := bufio.NewReaderSize(file, 32<<10)
		if _, err := br.Peek(1); err != nil && !errors.Is(err, io.EOF) {
			hdr.Del("Content-Disposition")
			fileRoutes.writeFailure(w, fmt.Errorf("read %s: %w", info.Path, err))
			return
		}
		dw.WriteHeader(http.StatusOK)
		if _, err := io.Copy(dw, br); err != nil {
			panic(http.ErrAbortHandler)
		}
		return
	}
	hdr.Set("ETag", etag(info))
	http.ServeContent(dw, r, info.Name, info.ModTime, file)
}

// etag changes whenever the file's size or modification time does.
func etag(info filesystem.FileInfo) string {
	return fmt.Sprintf(`"%x-%x"`, info.ModTime.UnixNano(), info.Size)
}

// contentTypeOf guesses from the extension, without parameters (no
// charset: the daemon does not know the file's encoding).
func contentTypeOf(name string) string {
	t := mime.TypeByExtension(filepath.Ext(name))
	if mt, _, err := mime.ParseMediaType(t); err == nil && mt != "" {
		return mt
	}
	return "application/octet-stream"
}

// attachment is a Content-Disposition per RFC 6266: an ASCII filename for
// old clients, and filename* with the exact UTF-8 name when they differ.
func attachment(name string) string {
	var fallback strings.Builder
	for _, c := range name {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(c)
		}
	}
	v := `attachment; filename="` + fallback.String() + `"`
	if fallback.String() != name {
		v += "; filename*=UTF-8''" + rfc5987Escape(name)
	}
	return v
}

// rfc5987Escape percent-encodes every byte outside attr-char.
func rfc5987Escape(s string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChars, c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// downloadWriter sits between http.ServeContent and the client. It turns
// the plain-text errors ServeContent writes (416, 412) into the API's JSON
// errors, and refreshes the write deadline every downloadChunk while
// keeping sendfile.
type downloadWriter struct {
	http.ResponseWriter
	rc        *http.ResponseController
	errStatus int
	errText   []byte
}

func newDownloadWriter(w http.ResponseWriter) *downloadWriter {
	return &downloadWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (d *downloadWriter) WriteHeader(code int) {
	if code >= 400 {
		d.errStatus = code // finish writes it as JSON
		return
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	if d.errStatus != 0 {
		if len(d.errText) < 1024 {
			d.errText = append(d.errText, p...)
		}
		return len(p), nil
	}
	_ = d.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return d.ResponseWriter.Write(p)
}

// ReadFrom copies in chunks, each with a fresh deadline, through the real
// writer's ReadFrom. A *io.LimitedReader (what ServeContent passes) is
// unwrapped, so each chunk is a LimitedReader over the file itself: the
// shape sendfile recognises.
func (d *downloadWriter) ReadFrom(src io.Reader) (int64, error) {
	if d.errStatus != 0 {
		return io.Copy(io.Discard, src)
	}
	lr, limited := src.(*io.LimitedReader)
	inner, remain := src, int64(-1)
	if limited {
		inner, remain = lr.R, lr.N
	}
	var total int64
	for remain != 0 {
		chunk := int64(downloadChunk)
		if remain > 0 && remain < chunk {
			chunk = remain
		}
		_ = d.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		n, err := io.Copy(d.ResponseWriter, &io.LimitedReader{R: inner, N: chunk})
		total += n
		if remain > 0 {
			remain -= n
		}
		if err != nil {
			return total, err
		}
		if n < chunk {
			break // the source ended
		}
	}
	if limited {
		lr.N = remain
	}
	return total, nil
}

func (d *downloadWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// finish clears the deadline for the next request on the connection and
// sends a pending error.
func (d *downloadWriter) finish() {
	_ = d.rc.SetWriteDeadline(time.Time{})
	if d.errStatus == 0 {
		return
	}
	d.Header().Del("Content-Disposition")
	d.Header().Del("X-Content-Type-Options")
	d.Header().Set("Cache-Control", "no-store") // ServeContent's error path dropped it
	msg := strings.TrimSpace(string(d.errText))
	if msg == "" {
		msg = http.StatusText(d.errStatus)
	}
	writeError(d.ResponseWriter, d.errStatus, msg)
}
