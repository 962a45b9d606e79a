package main

// Black-box tests of /filesystem-multipart through the real daemon.

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// mpDaemon is a daemon with its own upload folder.
type mpDaemon struct {
	*daemon
	uploadDir string
}

func mpStartDaemon(t testing.TB, extra ...string) mpDaemon {
	t.Helper()
	return mpStartDaemonIn(t, filepath.Join(t.TempDir(), "uploads"), extra...)
}

// mpStartDaemonIn runs a daemon whose uploads live in dir.
func mpStartDaemonIn(t testing.TB, dir string, extra ...string) mpDaemon {
	t.Helper()
	d := startDaemon(t, daemonOptions{args: append([]string{"--upload-dir", dir}, extra...)})
	return mpDaemon{daemon: d, uploadDir: dir}
}

type mpPart struct {
	PartNumber int    `json:"partNumber"`
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
	UploadedAt string `json:"uploadedAt"`
}

// mpForm is a multipart/form-data body with data in the "file" field, as the
// SDK sends a part.
func mpForm(t testing.TB, data []byte) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", "blob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func (d mpDaemon) initiate(path string, body any) (id, resolved string) {
	d.t.Helper()
	var resp struct {
		UploadID string `json:"uploadId"`
		Path     string `json:"path"`
	}
	d.doJSON(http.MethodPost, "/filesystem-multipart/initiate/"+path, body, http.StatusOK, &resp)
	if resp.UploadID == "" {
		d.t.Fatalf("initiate %s: no uploadId", path)
	}
	return resp.UploadID, resp.Path
}

// putPart sends one part as a form and checks the answer.
func (d mpDaemon) putPart(id string, n int, data []byte) mpPart {
	d.t.Helper()
	body, ct := mpForm(d.t, data)
	resp, out := d.do(http.MethodPut, fmt.Sprintf("/filesystem-multipart/%s/part?partNumber=%d", id, n), body, "Content-Type", ct)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("part %d: status %d: %s", n, resp.StatusCode, testsupport.Truncate(out))
	}
	var p mpPart
	var fields map[string]any
	if err := json.Unmarshal(out, &p); err != nil || json.Unmarshal(out, &fields) != nil {
		d.t.Fatalf("part %d: decode %s: %v", n, testsupport.Truncate(out), err)
	}
	if len(fields) != 3 || fields["partNumber"] == nil || fields["etag"] == nil || fields["size"] == nil {
		d.t.Fatalf("part %d answered %s, want exactly {partNumber, etag, size}", n, out)
	}
	sum := md5.Sum(data)
	if p.PartNumber != n || p.ETag != hex.EncodeToString(sum[:]) || p.Size != int64(len(data)) {
		d.t.Fatalf("part %d answered %+v, want etag %x size %d", n, p, sum, len(data))
	}
	return p
}

func (d mpDaemon) complete(id string, parts ...mpPart) string {
	d.t.Helper()
	var resp struct {
		Message string `json:"message"`
		Path    string `json:"path"`
	}
	d.doJSON(http.MethodPost, "/filesystem-multipart/"+id+"/complete", map[string]any{"parts": parts}, http.StatusOK, &resp)
	if resp.Message == "" {
		d.t.Fatalf("complete %s: no message", id)
	}
	return resp.Path
}

// wantNoUploads checks that the upload folder is empty.
func (d mpDaemon) wantNoUploads() {
	d.t.Helper()
	entries, err := os.ReadDir(d.uploadDir)
	if err != nil {
		d.t.Fatal(err)
	}
	if len(entries) != 0 {
		d.t.Fatalf("upload folder not empty: %v", entries)
	}
}

func mpSeededBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mpSHA256File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The SDK's flow: 5 MiB parts, three in flight at once, completed in order.
func TestMultipartParallelPartsAssemble(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	const partSize = 5 << 20
	data := mpSeededBytes(1, 3*partSize+12345)
	dest := filepath.Join(d.workDir, "big dir", "naïve #1?.bin")
	id, resolved := d.initiate(url.PathEscape(dest), map[string]string{"permissions": "0600"})
	if resolved != dest {
		t.Fatalf("initiate answered path %q, want %q", resolved, dest)
	}

	numParts := (len(data) + partSize - 1) / partSize
	parts := make([]mpPart, numParts)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i := numParts - 1; i >= 0; i-- { // last part first: out of order
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			end := min((i+1)*partSize, len(data))
			parts[i] = d.putPart(id, i+1, data[i*partSize:end])
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	var listedParts struct {
		UploadID string   `json:"uploadId"`
		Parts    []mpPart `json:"parts"`
	}
	d.doJSON(http.MethodGet, "/filesystem-multipart/"+id+"/parts", nil, http.StatusOK, &listedParts)
	if listedParts.UploadID != id || len(listedParts.Parts) != numParts {
		t.Fatalf("parts = %+v", listedParts)
	}
	for i, p := range listedParts.Parts {
		if p.PartNumber != i+1 || p.ETag != parts[i].ETag || p.Size != parts[i].Size {
			t.Fatalf("listed part %d = %+v, want %+v", i+1, p, parts[i])
		}
		if _, err := time.Parse(time.RFC3339Nano, p.UploadedAt); err != nil {
			t.Fatalf("uploadedAt %q: %v", p.UploadedAt, err)
		}
	}

	var ups struct {
		Uploads []struct {
			UploadID    string            `json:"uploadId"`
			Path        string            `json:"path"`
			Permissions int               `json:"permissions"`
			InitiatedAt string            `json:"initiatedAt"`
			Parts       map[string]mpPart `json:"parts"`
		} `json:"uploads"`
	}
	d.doJSON(http.MethodGet, "/filesystem-multipart", nil, http.StatusOK, &ups)
	if len(ups.Uploads) != 1 {
		t.Fatalf("uploads = %+v, want one", ups)
	}
	u := ups.Uploads[0]
	if u.UploadID != id || u.Path != dest || u.Permissions != 0o600 || len(u.Parts) != numParts || u.Parts["2"].ETag != parts[1].ETag {
		t.Fatalf("upload = %+v", u)
	}
	if _, err := time.Parse(time.RFC3339Nano, u.InitiatedAt); err != nil {
		t.Fatalf("initiatedAt %q: %v", u.InitiatedAt, err)
	}

	if got := d.complete(id, parts...); got != dest {
		t.Fatalf("complete answered path %q, want %q", got, dest)
	}
	want := sha256.Sum256(data)
	if got := mpSHA256File(t, dest); got != hex.EncodeToString(want[:]) {
		t.Fatalf("sha256 of the result %s, want %x", got, want)
	}
	if info, _ := os.Stat(dest); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	d.wantNoUploads()
	d.doJSON(http.MethodGet, "/filesystem-multipart", nil, http.StatusOK, &ups)
	if len(ups.Uploads) != 0 {
		t.Fatalf("uploads after complete = %+v", ups)
	}
}

// All three path forms after /initiate/ land where they should.
func TestMultipartInitiatePathForms(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	tests := []struct{ route, want string }{
		{url.PathEscape(filepath.Join(d.workDir, "encoded.txt")), filepath.Join(d.workDir, "encoded.txt")},
		{"/" + filepath.Join(d.workDir, "double slash.txt"), filepath.Join(d.workDir, "double slash.txt")},
		{"sub/relative.txt", filepath.Join(d.workDir, "sub/relative.txt")},
	}
	for _, tt := range tests {
		id, resolved := d.initiate(strings.ReplaceAll(tt.route, " ", "%20"), nil)
		if resolved != tt.want {
			t.Errorf("initiate %s: path %q, want %q", tt.route, resolved, tt.want)
			continue
		}
		p := d.putPart(id, 1, []byte("content of "+tt.want))
		d.complete(id, p)
		if got, _ := os.ReadFile(tt.want); string(got) != "content of "+tt.want {
			t.Errorf("%s holds %q", tt.want, got)
		}
		if info, _ := os.Stat(tt.want); info.Mode().Perm() != 0o644 {
			t.Errorf("%s: default mode %v, want 0644", tt.want, info.Mode().Perm())
		}
	}
	d.wantNoUploads()
}

func TestMultipartErrors(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	id, _ := d.initiate("errors.bin", nil)
	p1 := d.putPart(id, 1, []byte("one"))
	unknown := "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	form, ct := mpForm(t, []byte("x"))
	noFile := func() ([]byte, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("other", "value")
		_ = w.Close()
		return buf.Bytes(), w.FormDataContentType()
	}
	noFileBody, noFileCT := noFile()
	wrongETag := p1
	wrongETag.ETag = strings.Repeat("0", 32)

	tests := []struct {
		name, method, path string
		body               any
		header             []string
		status             int
		want               string // in the error message
	}{
		{"part number 0", "PUT", "/filesystem-multipart/" + id + "/part?partNumber=0", form, []string{"Content-Type", ct}, 400, "part number"},
		{"part number 10001", "PUT", "/filesystem-multipart/" + id + "/part?partNumber=10001", form, []string{"Content-Type", ct}, 400, "part number"},
		{"part number not a number", "PUT", "/filesystem-multipart/" + id + "/part?partNumber=abc", form, []string{"Content-Type", ct}, 400, "partNumber"},
		{"part number missing", "PUT", "/filesystem-multipart/" + id + "/part", form, []string{"Content-Type", ct}, 400, "partNumber"},
		{"part without a file field", "PUT", "/filesystem-multipart/" + id + "/part?partNumber=2", noFileBody, []string{"Content-Type", noFileCT}, 400, "file"},
		{"part as JSON", "PUT", "/filesystem-multipart/" + id + "/part?partNumber=2", `{"file":"x"}`, []string{"Content-Type", "application/json"}, 400, "multipart/form-data"},
		{"part of an unknown upload", "PUT", "/filesystem-multipart/" + unknown + "/part?partNumber=1", form, []string{"Content-Type", ct}, 404, "not found"},
		{"part of a malformed id", "PUT", "/filesystem-multipart/..%2F..%2Fetc/part?partNumber=1", form, []string{"Content-Type", ct}, 400, "upload id"},
		{"complete an unknown upload", "POST", "/filesystem-multipart/" + unknown + "/complete", map[string]any{"parts": []mpPart{p1}}, nil, 404, "not found"},
		{"complete with a wrong etag", "POST", "/filesystem-multipart/" + id + "/complete", map[string]any{"parts": []mpPart{wrongETag}}, nil, 400, "part 1"},
		{"complete with a missing part", "POST", "/filesystem-multipart/" + id + "/complete", map[string]any{"parts": []any{p1, map[string]any{"partNumber": 2, "etag": p1.ETag}}}, nil, 400, "part 2"},
		{"complete with no parts", "POST", "/filesystem-multipart/" + id + "/complete", map[string]any{"parts": []any{}}, nil, 400, "no parts"},
		{"complete with bad JSON", "POST", "/filesystem-multipart/" + id + "/complete", `{"parts": [`, nil, 400, "invalid request body: "},
		{"complete with no body", "POST", "/filesystem-multipart/" + id + "/complete", nil, nil, 400, "empty"},
		{"abort an unknown upload", "DELETE", "/filesystem-multipart/" + unknown + "/abort", nil, nil, 404, "not found"},
		{"abort a malformed id", "DELETE", "/filesystem-multipart/not-an-id/abort", nil, nil, 400, "upload id"},
		{"parts of an unknown upload", "GET", "/filesystem-multipart/" + unknown + "/parts", nil, nil, 404, "not found"},
		{"initiate without a path", "POST", "/filesystem-multipart/initiate/", nil, nil, 400, "path"},
		{"initiate with bad permissions", "POST", "/filesystem-multipart/initiate/x.bin", map[string]string{"permissions": "rwx"}, nil, 400, "permissions"},
		{"initiate onto a folder", "POST", "/filesystem-multipart/initiate/" + url.PathEscape(d.workDir), nil, nil, 400, "directory"},
		{"initiate with a huge body", "POST", "/filesystem-multipart/initiate/x.bin", `{"permissions":"` + strings.Repeat("7", 10000) + `"}`, nil, 413, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := d.do(tt.method, tt.path, tt.body, tt.header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, testsupport.Truncate(out))
			}
			var e map[string]any
			if err := json.Unmarshal(out, &e); err != nil || len(e) != 1 {
				t.Fatalf("body %s is not {\"error\": ...}", testsupport.Truncate(out))
			}
			msg, _ := e["error"].(string)
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q does not mention %q", msg, tt.want)
			}
		})
	}
	// Every failure left the upload as it was.
	var parts struct {
		Parts []mpPart `json:"parts"`
	}
	d.doJSON(http.MethodGet, "/filesystem-multipart/"+id+"/parts", nil, http.StatusOK, &parts)
	if len(parts.Parts) != 1 || parts.Parts[0].ETag != p1.ETag {
		t.Fatalf("parts after the errors = %+v, want only part 1", parts.Parts)
	}
	if _, err := os.Stat(filepath.Join(d.workDir, "errors.bin")); !os.IsNotExist(err) {
		t.Fatalf("a failed complete created the file (%v)", err)
	}
}

func TestMultipartResentPartLastWins(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	id, dest := d.initiate("resent.txt", nil)
	old := d.putPart(id, 1, []byte("old version of the part"))
	p2 := d.putPart(id, 2, []byte(" and part two"))
	p1 := d.putPart(id, 1, []byte("new version"))
	msg := d.wantError(http.MethodPost, "/filesystem-multipart/"+id+"/complete", map[string]any{"parts": []mpPart{old, p2}}, http.StatusBadRequest)
	if !strings.Contains(msg, "part 1") {
		t.Fatalf("error %q does not name part 1", msg)
	}
	d.complete(id, p1, p2)
	if got, _ := os.ReadFile(dest); string(got) != "new version and part two" {
		t.Fatalf("result %q", got)
	}
	d.wantNoUploads()
}

// A raw application/octet-stream body is a part too (curl-friendly).
func TestMultipartRawPartBody(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	id, dest := d.initiate("raw.bin", nil)
	data := mpSeededBytes(3, 100_000)
	var p mpPart
	resp, out := d.do(http.MethodPut, "/filesystem-multipart/"+id+"/part?partNumber=1", data, "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusOK || json.Unmarshal(out, &p) != nil || p.Size != int64(len(data)) {
		t.Fatalf("raw part: %d %s", resp.StatusCode, testsupport.Truncate(out))
	}
	d.complete(id, p)
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
		t.Fatal("raw part did not round-trip")
	}
}

func TestMultipartAbortRemovesEverything(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	id, dest := d.initiate("aborted.bin", nil)
	d.putPart(id, 1, mpSeededBytes(4, 1<<20))
	d.putPart(id, 2, mpSeededBytes(5, 1<<20))
	var ok struct {
		Message string `json:"message"`
	}
	d.doJSON(http.MethodDelete, "/filesystem-multipart/"+id+"/abort", nil, http.StatusOK, &ok)
	if ok.Message == "" {
		t.Fatal("abort answered no message")
	}
	d.wantNoUploads()
	d.wantError(http.MethodGet, "/filesystem-multipart/"+id+"/parts", nil, http.StatusNotFound)
	d.wantError(http.MethodDelete, "/filesystem-multipart/"+id+"/abort", nil, http.StatusNotFound)
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("abort created the destination (%v)", err)
	}
}

// Uploads live on disk: one started before a restart completes after it,
// and one abandoned expires under the TTL of a later daemon.
func TestMultipartUploadsOutliveARestartThenExpire(t *testing.T) {
	t.Parallel()
	first := mpStartDaemon(t)
	kept, dest := first.initiate("kept.txt", nil)
	p1 := first.putPart(kept, 1, []byte("started before, "))
	abandoned, _ := first.initiate("abandoned.bin", nil)
	first.putPart(abandoned, 1, []byte("forgotten"))
	if err, _ := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := mpStartDaemonIn(t, first.uploadDir)
	p2 := second.putPart(kept, 2, []byte("finished after the restart"))
	second.complete(kept, p1, p2)
	if got, _ := os.ReadFile(dest); string(got) != "started before, finished after the restart" {
		t.Fatalf("result %q", got)
	}
	if err, _ := second.stop(); err != nil {
		t.Fatal(err)
	}

	third := mpStartDaemonIn(t, first.uploadDir, "--upload-ttl", "300ms")
	testsupport.Eventually(t, func() (bool, string) {
		resp, out := third.do(http.MethodGet, "/filesystem-multipart/"+abandoned+"/parts", nil)
		return resp.StatusCode == http.StatusNotFound, fmt.Sprintf("upload still there with a 300 ms TTL: %d %s", resp.StatusCode, out)
	})
	// The sweep takes an upload out of sight (a rename, the 404 above)
	// before it deletes its files: the folder empties a moment later.
	testsupport.Eventually(t, func() (bool, string) {
		entries, err := os.ReadDir(third.uploadDir)
		return err == nil && len(entries) == 0, fmt.Sprintf("upload folder not empty: %v (%v)", entries, err)
	})
}

// A client that declares more than a part may hold is refused at once, and
// one that goes away mid-part leaves nothing behind.
func TestMultipartOversizedAndCutOffParts(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	id, _ := d.initiate("cut.bin", nil)
	good := d.putPart(id, 1, []byte("good"))

	send := func(contentLength int64, body []byte) (*http.Response, error) {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(d.url, "http://"), hangGuard)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(hangGuard))
		fmt.Fprintf(conn, "PUT /filesystem-multipart/%s/part?partNumber=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", id, contentLength)
		_, _ = conn.Write(body)
		if int64(len(body)) < contentLength {
			_ = conn.(*net.TCPConn).CloseWrite() // cut off: no more bytes will come
		}
		return http.ReadResponse(bufio.NewReader(conn), nil)
	}

	resp, err := send(6<<30, []byte("a start"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("6 GiB part: status %d, want 413", resp.StatusCode)
	}

	if resp, err := send(10<<20, mpSeededBytes(6, 1<<20)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("a cut-off part was accepted")
		}
	}
	// Only the good version remains: metadata, one record, one data file.
	testsupport.Eventually(t, func() (bool, string) {
		entries, _ := os.ReadDir(filepath.Join(d.uploadDir, id))
		return len(entries) == 3, fmt.Sprintf("upload folder has %d entries, want 3", len(entries))
	})
	var parts struct {
		Parts []mpPart `json:"parts"`
	}
	d.doJSON(http.MethodGet, "/filesystem-multipart/"+id+"/parts", nil, http.StatusOK, &parts)
	if len(parts.Parts) != 1 || parts.Parts[0].ETag != good.ETag {
		t.Fatalf("parts = %+v, want the good version", parts.Parts)
	}
}

// A full disk answers 507, for a part as for the assembled file, and
// leaves no partial file on it.
func TestMultipartDiskFull(t *testing.T) {
	t.Parallel()
	small := testdisk.Small(t, "2m")
	data := mpSeededBytes(7, 3<<20) // more than the disk holds

	// Parts on the full disk.
	d := mpStartDaemonIn(t, filepath.Join(small, "uploads"))
	id, _ := d.initiate("full.bin", nil)
	body, ct := mpForm(t, data)
	resp, out := d.do(http.MethodPut, "/filesystem-multipart/"+id+"/part?partNumber=1", body, "Content-Type", ct)
	if resp.StatusCode != http.StatusInsufficientStorage || !bytes.Contains(out, []byte(`"error"`)) {
		t.Fatalf("part on a full disk: %d %s, want 507 with an error", resp.StatusCode, testsupport.Truncate(out))
	}
	entries, _ := os.ReadDir(filepath.Join(d.uploadDir, id))
	if len(entries) != 1 {
		t.Fatalf("upload folder has %v, want only upload.json (no partial part)", entries)
	}

	// The destination on the full disk, the parts elsewhere.
	d2 := mpStartDaemon(t)
	dest := filepath.Join(small, "dest", "out.bin")
	id2, _ := d2.initiate(url.PathEscape(dest), nil)
	p := d2.putPart(id2, 1, data)
	resp, out = d2.do(http.MethodPost, "/filesystem-multipart/"+id2+"/complete", map[string]any{"parts": []mpPart{p}})
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("complete onto a full disk: %d %s, want 507", resp.StatusCode, testsupport.Truncate(out))
	}
	entries, _ = os.ReadDir(filepath.Dir(dest))
	if len(entries) != 0 {
		t.Fatalf("%s has %v after a failed complete, want nothing", filepath.Dir(dest), entries)
	}
	var parts struct {
		Parts []mpPart `json:"parts"`
	}
	d2.doJSON(http.MethodGet, "/filesystem-multipart/"+id2+"/parts", nil, http.StatusOK, &parts)
	if len(parts.Parts) != 1 {
		t.Fatalf("the upload should survive a failed complete: %+v", parts)
	}
}
