package main

// Benchmark of a file uploaded as a multipart/form-data PUT, the way the
// SDK's writeBinary sends one, beside the physical floor measured in the
// same run.

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"testing"
)

// BenchmarkFormUpload256MB: PUT /filesystem/... of a 256 MiB file as the
// form writeBinary builds (file, then permissions, then path), sent with
// chunked transfer encoding in 32 KiB chunks, against uploadFloor of the
// same bytes. The form is built once, outside the timing: the client's
// cost is not the daemon's. ns/op and MB/s cover the upload only; the
// figure is ratio-to-floor (median of the rounds).
func BenchmarkFormUpload256MB(b *testing.B) {
	const total = 256 << 20
	data := make([]byte, total)
	_, _ = rand.Read(data)
	client := &http.Client{Timeout: hangGuard}

	// side starts a daemon from bin and returns its upload, and where that
	// lands.
	side := func(bin string) (uploadSide, string) {
		d := startDaemon(b, daemonOptions{bin: bin})
		dest := filepath.Join(d.workDir, "uploaded.bin")
		form, contentType := benchWriteBinaryForm(b, data, dest)
		upload := func() {
			// Hidden behind a plain Reader: no length, so the body goes
			// chunked, and no WriterTo, so in io.Copy's 32 KiB chunks.
			req, err := http.NewRequest(http.MethodPut, d.url+filesRaw("/filesystem/", dest), struct{ io.Reader }{bytes.NewReader(form)})
			if err != nil {
				b.Fatal(err)
			}
			req.ContentLength = -1 // unknown: sent chunked
			req.Header.Set("Content-Type", contentType)
			doOK(b, client, req, "upload")
		}
		return uploadSide{pid: d.pid, upload: upload}, dest
	}
	runUploadRounds(b, data, side)
}

// benchWriteBinaryForm is the body writeBinary of @blaxel/core sends for
// data to dest: a "file" field named test-binary.bin, then "permissions"
// 0644, then "path".
func benchWriteBinaryForm(b *testing.B, data []byte, dest string) ([]byte, string) {
	b.Helper()
	var buf bytes.Buffer
	buf.Grow(len(data) + 4096)
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="test-binary.bin"`)
	h.Set("Content-Type", "application/octet-stream")
	fw, err := w.CreatePart(h)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		b.Fatal(err)
	}
	for _, f := range [][2]string{{"permissions", "0644"}, {"path", dest}} {
		if err := w.WriteField(f[0], f[1]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}
