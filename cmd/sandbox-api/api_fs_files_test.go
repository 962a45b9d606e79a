package main

// Black-box tests of files, folders and trees (/filesystem/{path},
// /filesystem/tree/{path}) through the real daemon.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// filesEnc is the path as the SDK's generated client sends it: one
// encoded segment.
func filesEnc(prefix, p string) string { return prefix + url.PathEscape(p) }

// filesRaw is the path pasted after the prefix, only what HTTP needs
// escaped (what writeBinary and writeTree send): "/filesystem//tmp/a".
func filesRaw(prefix, p string) string { return prefix + (&url.URL{Path: p}).EscapedPath() }

// fileBody is FileWithContent.
type fileBody struct {
	Path         string `json:"path"`
	Name         string `json:"name"`
	Permissions  string `json:"permissions"`
	Size         int64  `json:"size"`
	LastModified string `json:"lastModified"`
	Owner        string `json:"owner"`
	Group        string `json:"group"`
	Content      string `json:"content"`
}

// dirBody is Directory; in trees the subdirectories are filled in.
type dirBody struct {
	Path           string     `json:"path"`
	Name           string     `json:"name"`
	Files          []fileBody `json:"files"`
	Subdirectories []dirBody  `json:"subdirectories"`
}

// filesPutJSON writes content with PUT {content} at an encoded path.
func filesPutJSON(t *testing.T, d *daemon, p, content string) {
	t.Helper()
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", p), map[string]any{"content": content}, http.StatusOK, nil)
}

// filesTemps lists the atomic writes' temporary files in dir.
func filesTemps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.sandbox-api-tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func filesReadFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// filesAllBytes is every byte value, twice, in order.
func filesAllBytes() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestFSPathForms(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	names := []string{"plain.txt", "with space.txt", "hash#tag.txt", "what?.txt", "ünïcødé-文件.txt", "100%.txt"}
	for _, name := range names {
		abs := filepath.Join(d.workDir, "dir", name)
		rel := filepath.Join("dir", name)
		forms := map[string]string{
			"encoded":  filesEnc("/filesystem/", abs),
			"raw":      filesRaw("/filesystem/", abs),
			"relative": filesRaw("/filesystem/", rel),
		}
		for writeForm, writePath := range forms {
			content := name + " via " + writeForm
			d.doJSON(http.MethodPut, writePath, map[string]any{"content": content}, http.StatusOK, nil)
			if got := filesReadFile(t, abs); got != content {
				t.Fatalf("PUT %s wrote %q to %s, want %q", writePath, got, abs, content)
			}
			for readForm, readPath := range forms {
				var f fileBody
				d.doJSON(http.MethodGet, readPath, nil, http.StatusOK, &f)
				if f.Content != content || f.Path != abs || f.Name != name {
					t.Errorf("%s write, %s read of %q: path %q name %q content %q", writeForm, readForm, name, f.Path, f.Name, f.Content)
				}
			}
		}
	}
	// The bare prefix and "/filesystem/" are the working directory.
	for _, p := range []string{"/filesystem", "/filesystem/"} {
		var dir dirBody
		d.doJSON(http.MethodGet, p, nil, http.StatusOK, &dir)
		if dir.Path != d.workDir {
			t.Errorf("GET %s listed %q, want the working dir %q", p, dir.Path, d.workDir)
		}
	}
	if msg := d.wantError(http.MethodGet, "/filesystem/%2Ftmp%00x", nil, http.StatusBadRequest); !strings.Contains(msg, "NUL") {
		t.Errorf("a NUL byte in the path: %q", msg)
	}
}

func TestFSReadFileJSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := filepath.Join(d.workDir, "notes.md")
	content := "line 1\n\"quoted\" \\ tab\t <html> & ünïcode \u2028\n"
	before := time.Now().Add(-2 * time.Second)
	filesPutJSON(t, d, p, content)
	resp, raw := d.do(http.MethodGet, filesEnc("/filesystem/", p), nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), testsupport.Truncate(raw))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("%s: %v", testsupport.Truncate(raw), err)
	}
	for _, k := range []string{"path", "name", "permissions", "size", "lastModified", "owner", "group", "content"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("FileWithContent lacks %q: %s", k, testsupport.Truncate(raw))
		}
	}
	var f fileBody
	_ = json.Unmarshal(raw, &f)
	mod, err := time.Parse(time.RFC3339Nano, f.LastModified)
	if err != nil || mod.Before(before) || mod.After(time.Now().Add(2*time.Second)) {
		t.Errorf("lastModified %q (%v): want RFC 3339 close to now", f.LastModified, err)
	}
	if f.Content != content || f.Size != int64(len(content)) || f.Permissions != "644" || f.Owner == "" || f.Group == "" {
		t.Errorf("file answered %+v", f)
	}

	// Bytes that are not UTF-8 still come back as a string (U+FFFD);
	// binary files are read with Accept: application/octet-stream.
	bin := filepath.Join(d.workDir, "blob.bin")
	if err := os.WriteFile(bin, []byte{'o', 'k', 0xff, 0x00, 'x'}, 0o644); err != nil {
		t.Fatal(err)
	}
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", bin), nil, http.StatusOK, &f)
	if f.Content != "ok\ufffd\x00x" || f.Size != 5 {
		t.Errorf("binary file as JSON: content %q size %d", f.Content, f.Size)
	}

	// /proc files report size 0 and still have content.
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", "/proc/self/status"), nil, http.StatusOK, &f)
	if !strings.Contains(f.Content, "Name:") || f.Size != int64(len(f.Content)) {
		t.Errorf("/proc/self/status as JSON: size %d, content %.40q", f.Size, f.Content)
	}

	// Over 64 MiB, JSON is refused with a hint; the download still works.
	big := filepath.Join(d.workDir, "big.bin")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 64<<20+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	if msg := d.wantError(http.MethodGet, filesEnc("/filesystem/", big), nil, http.StatusRequestEntityTooLarge); !strings.Contains(msg, "application/octet-stream") {
		t.Errorf("413 should say how to download instead: %q", msg)
	}
	resp, err = d.client.Do(d.request(t.Context(), http.MethodGet, filesEnc("/filesystem/", big), nil, "Accept", "application/octet-stream"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n != 64<<20+1 {
		t.Errorf("download of the big file: %d, %d bytes", resp.StatusCode, n)
	}
}

func TestFSListFolder(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "proj")
	filesPutJSON(t, d, filepath.Join(root, "b.txt"), "bb")
	filesPutJSON(t, d, filepath.Join(root, "a.txt"), "a")
	filesPutJSON(t, d, filepath.Join(root, "src", "main.go"), "package main")
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", filepath.Join(root, "empty")), map[string]any{"isDirectory": true}, http.StatusOK, nil)

	var dir dirBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", root), nil, http.StatusOK, &dir)
	if dir.Path != root || dir.Name != "proj" || len(dir.Files) != 2 || len(dir.Subdirectories) != 2 {
		t.Fatalf("listing: %+v", dir)
	}
	if dir.Files[0].Name != "a.txt" || dir.Files[1].Size != 2 || dir.Files[1].Path != filepath.Join(root, "b.txt") || dir.Files[0].Content != "" {
		t.Errorf("files: %+v", dir.Files)
	}
	if dir.Subdirectories[0].Name != "empty" || dir.Subdirectories[1].Path != filepath.Join(root, "src") {
		t.Errorf("subdirectories: %+v", dir.Subdirectories)
	}
	// Empty lists are [] (the SDK iterates them), and subfolders of a
	// listing carry only path and name.
	_, raw := d.do(http.MethodGet, filesEnc("/filesystem/", filepath.Join(root, "empty")), nil)
	if !bytes.Contains(raw, []byte(`"files":[]`)) || !bytes.Contains(raw, []byte(`"subdirectories":[]`)) {
		t.Errorf("empty folder: %s", raw)
	}
	_, raw = d.do(http.MethodGet, filesEnc("/filesystem/", root), nil)
	if bytes.Contains(raw, []byte(`"main.go"`)) {
		t.Errorf("a listing went into a subfolder: %s", raw)
	}
}

func TestFSDownload(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	data := filesAllBytes()
	tests := []struct {
		name, wantType string
	}{
		{"data.json", "application/json"},
		{"image.png", "image/png"},
		{"no-extension", "application/octet-stream"},
		{"weird.unknownext", "application/octet-stream"},
	}
	for _, tc := range tests {
		p := filepath.Join(d.workDir, tc.name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, how := range []struct {
			query  string
			header []string
		}{{"", []string{"Accept", "application/octet-stream"}}, {"?download=true", nil}} {
			resp, body := d.do(http.MethodGet, filesEnc("/filesystem/", p)+how.query, nil, how.header...)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				t.Errorf("download %s%s: %d, %d bytes equal=%v", tc.name, how.query, resp.StatusCode, len(body), bytes.Equal(body, data))
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.wantType {
				t.Errorf("download %s: Content-Type %q, want %q", tc.name, ct, tc.wantType)
			}
			if cl := resp.Header.Get("Content-Length"); cl != "512" {
				t.Errorf("download %s: Content-Length %q", tc.name, cl)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+tc.name+`"` {
				t.Errorf("download %s: Content-Disposition %q", tc.name, cd)
			}
		}
	}

	p := filepath.Join(d.workDir, "résumé \"final\".txt")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	url := filesEnc("/filesystem/", p)
	resp, _ := d.do(http.MethodGet, url+"?download=1", nil)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="r_sum_ _final_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt` {
		t.Errorf("non-ASCII name: Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "charset") {
		t.Errorf("Content-Type %q should have no charset", ct)
	}

	resp, body := d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream", "Range", "bytes=250-259")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[250:260]) || resp.Header.Get("Content-Range") != "bytes 250-259/512" {
		t.Errorf("range: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Range"), body)
	}
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" {
		t.Fatal("no ETag on a download")
	}
	resp, body = d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match with the current ETag: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream", "If-Modified-Since", lastMod)
	if lastMod == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since %q: %d", lastMod, resp.StatusCode)
	}
	// A changed file has a new ETag: the old one no longer matches (the
	// size alone changes it, whatever the clock says).
	if err := os.WriteFile(p, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body = d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream", "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || string(body) != "changed" {
		t.Errorf("stale ETag: %d %q", resp.StatusCode, body)
	}

	// Errors are JSON, whatever ServeContent says.
	req := d.request(t.Context(), http.MethodGet, url, nil, "Accept", "application/octet-stream", "Range", "bytes=9000-9100")
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct{ Error string }
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" {
		t.Errorf("unsatisfiable range: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	d.wantError(http.MethodGet, filesEnc("/filesystem/", d.workDir)+"?download=true", nil, http.StatusUnprocessableEntity)
	d.wantError(http.MethodGet, url+"?download=maybe", nil, http.StatusBadRequest)
}

func TestFSNotRegularFiles(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	fifo := filepath.Join(d.workDir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// Opening a FIFO with no writer would block: the daemon must not.
	d.wantError(http.MethodGet, filesEnc("/filesystem/", fifo), nil, http.StatusUnprocessableEntity)
	d.wantError(http.MethodGet, filesEnc("/filesystem/", "/dev/zero")+"?download=true", nil, http.StatusUnprocessableEntity)
	// /proc files have size 0 in stat: downloaded whole all the same.
	resp, body := d.do(http.MethodGet, filesEnc("/filesystem/", "/proc/self/status"), nil, "Accept", "application/octet-stream")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Name:")) {
		t.Errorf("/proc download: %d %.60q", resp.StatusCode, body)
	}
}

func TestFSMissingIs404(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	file := filepath.Join(d.workDir, "file")
	filesPutJSON(t, d, file, "x")
	for _, p := range []string{filepath.Join(d.workDir, "nope"), filepath.Join(file, "below")} {
		d.wantError(http.MethodGet, filesEnc("/filesystem/", p), nil, http.StatusNotFound)
		d.wantError(http.MethodGet, filesEnc("/filesystem/", p)+"?download=true", nil, http.StatusNotFound)
		d.wantError(http.MethodDelete, filesEnc("/filesystem/", p)+"?recursive=false", nil, http.StatusNotFound)
		d.wantError(http.MethodDelete, filesEnc("/filesystem/", p)+"?recursive=true", nil, http.StatusNotFound)
		d.wantError(http.MethodGet, filesEnc("/filesystem/tree/", p), nil, http.StatusNotFound)
	}
}

func TestFSPutJSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := filepath.Join(d.workDir, "a", "b", "c.txt")
	var ok struct{ Message, Path string }
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", p), map[string]any{"content": "hi", "permissions": "0600"}, http.StatusOK, &ok)
	if ok.Path != p || ok.Message == "" {
		t.Errorf("PUT answered %+v", ok)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 || filesReadFile(t, p) != "hi" {
		t.Fatalf("written file: %v %v", fi, err)
	}
	var f fileBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", p), nil, http.StatusOK, &f)
	if f.Permissions != "600" {
		t.Errorf("permissions read back %q, want 600", f.Permissions)
	}
	// Without permissions, a replaced file keeps its mode.
	filesPutJSON(t, d, p, "again")
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 || filesReadFile(t, p) != "again" {
		t.Errorf("rewrite lost the mode: %v", fi.Mode())
	}
	// An empty body object is an empty file.
	empty := filepath.Join(d.workDir, "empty.txt")
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", empty), map[string]any{}, http.StatusOK, nil)
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("PUT {}: %v %v", fi, err)
	}

	dir := filepath.Join(d.workDir, "x", "y")
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", dir), map[string]any{"isDirectory": true, "permissions": "0700"}, http.StatusOK, nil)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("mkdir: %v %v", fi, err)
	}
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", dir), map[string]any{"isDirectory": true}, http.StatusOK, nil) // again: fine

	tests := []struct {
		name   string
		path   string
		body   any
		header []string
		status int
	}{
		{"bad permissions", filepath.Join(d.workDir, "bad-perm"), map[string]any{"content": "x", "permissions": "999"}, nil, http.StatusBadRequest},
		{"symbolic permissions", filepath.Join(d.workDir, "bad-perm"), map[string]any{"content": "x", "permissions": "rwxr-xr-x"}, nil, http.StatusBadRequest},
		{"mkdir over a file", p, map[string]any{"isDirectory": true}, nil, http.StatusUnprocessableEntity},
		{"file over a folder", dir, map[string]any{"content": "x"}, nil, http.StatusUnprocessableEntity},
		{"file below a file", filepath.Join(p, "below"), map[string]any{"content": "x"}, nil, http.StatusUnprocessableEntity},
		{"invalid JSON", filepath.Join(d.workDir, "bad-json"), "{not json", []string{"Content-Type", "application/json"}, http.StatusBadRequest},
		{"no body", filepath.Join(d.workDir, "no-body"), nil, []string{"Content-Type", "application/json"}, http.StatusBadRequest},
		{"unknown media type", filepath.Join(d.workDir, "form"), "a=b", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"JSON over 32 MiB", filepath.Join(d.workDir, "huge"), map[string]any{"content": strings.Repeat("x", 32<<20)}, nil, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		resp, body := d.do(http.MethodPut, filesEnc("/filesystem/", tc.path), tc.body, tc.header...)
		var e struct{ Error string }
		if resp.StatusCode != tc.status || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: %d %s, want %d with an error", tc.name, resp.StatusCode, testsupport.Truncate(body), tc.status)
		}
	}
	for _, name := range []string{"bad-perm", "bad-json", "no-body", "form", "huge"} {
		if _, err := os.Lstat(filepath.Join(d.workDir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a refused PUT created %s", name)
		}
	}
	if got := filesReadFile(t, p); got != "again" {
		t.Errorf("refused PUTs changed %s: %q", p, got)
	}
	if temps := filesTemps(t, d.workDir); len(temps) > 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}

// filesForm builds a multipart form like the SDK's writeBinary: file,
// permissions, path, in that order (empty values are left out).
func filesForm(t *testing.T, data []byte, permissions, path string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "test-binary.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if permissions != "" {
		mw.WriteField("permissions", permissions)
	}
	if path != "" {
		mw.WriteField("path", path)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestFSPutMultipart(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	data := filesAllBytes()
	p := filepath.Join(d.workDir, "up", "bin.dat")
	body, ct := filesForm(t, data, "0640", p)
	resp, _ := d.do(http.MethodPut, filesRaw("/filesystem/", p), body, "Content-Type", ct)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("multipart PUT: %d", resp.StatusCode)
	}
	if got := filesReadFile(t, p); got != string(data) {
		t.Errorf("multipart upload wrote %d bytes, want the 512 given", len(got))
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}

	// The SDK pastes the path into the URL unencoded: "#" and "?" cut it.
	// The form's path field carries the real name.
	for _, name := range []string{"cut#here.txt", "cut?here.txt", "pct%41.txt"} {
		want := filepath.Join(d.workDir, "sdk", name)
		body, ct := filesForm(t, []byte(name), "0644", want)
		urlPath := "/filesystem/" + want // as the SDK builds it
		resp, answer := d.do(http.MethodPut, urlPath, body, "Content-Type", ct)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", name, resp.StatusCode, answer)
			continue
		}
		if got, err := os.ReadFile(want); err != nil || string(got) != name {
			t.Errorf("%s: the file at the form's path holds %q (%v)", name, got, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(d.workDir, "sdk"))
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the sdk folder has %v, want just the three files", names)
	}

	// Bad forms change nothing.
	noFile := func() ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("permissions", "0644")
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	twoFiles := func() ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for range 2 {
			fw, _ := mw.CreateFormFile("file", "x")
			fw.Write([]byte("new"))
		}
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	badPerm := func() ([]byte, string) { return filesForm(t, []byte("new"), "0999", "") }
	for name, build := range map[string]func() ([]byte, string){"no file field": noFile, "two files": twoFiles, "bad permissions": badPerm} {
		body, ct := build()
		resp, answer := d.do(http.MethodPut, filesEnc("/filesystem/", p), body, "Content-Type", ct)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, answer)
		}
	}
	resp, _ = d.do(http.MethodPut, filesEnc("/filesystem/", p), "garbage", "Content-Type", "multipart/form-data; boundary=xyz")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed multipart: %d, want 400", resp.StatusCode)
	}
	if got := filesReadFile(t, p); got != string(data) {
		t.Errorf("refused forms changed the file")
	}
	if temps := filesTemps(t, filepath.Dir(p)); len(temps) > 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}

func TestFSPutRaw(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	data := filesAllBytes()
	p := filepath.Join(d.workDir, "raw", "x.bin")
	resp, answer := d.do(http.MethodPut, filesEnc("/filesystem/", p)+"?permissions=0755", data, "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("raw PUT: %d %s", resp.StatusCode, answer)
	}
	if got := filesReadFile(t, p); got != string(data) {
		t.Errorf("raw upload wrote %d bytes", len(got))
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	resp, _ = d.do(http.MethodPut, filesEnc("/filesystem/", p)+"?permissions=abc", "x", "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusBadRequest || filesReadFile(t, p) != string(data) {
		t.Errorf("bad permissions: %d, and the file must be unchanged", resp.StatusCode)
	}

	// A declared body over the 64 GiB cap is refused before it is sent.
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(hangGuard))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		filesEnc("/filesystem/", filepath.Join(d.workDir, "huge")), int64(70)<<30)
	status, _ := io.ReadAll(io.LimitReader(conn, 12))
	if string(status) != "HTTP/1.1 413" {
		t.Errorf("a 70 GiB upload answered %q, want 413 at once", status)
	}
}

func TestFSDelete(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	file := filepath.Join(d.workDir, "f.txt")
	full := filepath.Join(d.workDir, "full")
	empty := filepath.Join(d.workDir, "empty")
	filesPutJSON(t, d, file, "x")
	filesPutJSON(t, d, filepath.Join(full, "sub", "g.txt"), "y")
	d.doJSON(http.MethodPut, filesEnc("/filesystem/", empty), map[string]any{"isDirectory": true}, http.StatusOK, nil)

	if msg := d.wantError(http.MethodDelete, filesEnc("/filesystem/", full)+"?recursive=false", nil, http.StatusUnprocessableEntity); !strings.Contains(msg, "not empty") {
		t.Errorf("non-empty folder: %q", msg)
	}
	d.wantError(http.MethodDelete, filesEnc("/filesystem/", full), nil, http.StatusUnprocessableEntity)
	if _, err := os.Stat(filepath.Join(full, "sub", "g.txt")); err != nil {
		t.Fatalf("a refused delete removed something: %v", err)
	}
	d.wantError(http.MethodDelete, filesEnc("/filesystem/", full)+"?recursive=perhaps", nil, http.StatusBadRequest)
	for _, p := range []string{"/filesystem/%2F?recursive=true", "/filesystem///?recursive=true", "/filesystem/tree/%2F", "/filesystem/%2Ftmp%2F..?recursive=true"} {
		d.wantError(http.MethodDelete, p, nil, http.StatusBadRequest)
	}

	for _, tc := range []struct{ path, query string }{{file, "?recursive=false"}, {empty, "?recursive=false"}, {full, "?recursive=true"}} {
		var ok struct{ Message, Path string }
		d.doJSON(http.MethodDelete, filesEnc("/filesystem/", tc.path)+tc.query, nil, http.StatusOK, &ok)
		if _, err := os.Lstat(tc.path); !errors.Is(err, fs.ErrNotExist) || ok.Path != tc.path {
			t.Errorf("DELETE %s%s: answered %+v, still there: %v", tc.path, tc.query, ok, err)
		}
	}
}

func TestFSTree(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(d.workDir, "proj")
	filesPutJSON(t, d, filepath.Join(root, "existing.txt"), "kept")
	files := map[string]string{
		"README.md":           "# readme",
		"src/main.go":         "package main",
		"src/pkg/util.go":     "package pkg",
		"docs/with space.txt": "spaces",
		"docs/ü#?.txt":        "unicode",
	}
	var written dirBody
	// writeTree sends the folder raw after /filesystem/tree/.
	d.doJSON(http.MethodPut, filesRaw("/filesystem/tree/", root), map[string]any{"files": files}, http.StatusOK, &written)
	for rel, content := range files {
		if got := filesReadFile(t, filepath.Join(root, rel)); got != content {
			t.Errorf("%s = %q, want %q", rel, got, content)
		}
	}
	if written.Path != root || len(written.Files) != 1 || written.Files[0].Name != "README.md" {
		t.Errorf("PUT tree answered root %q with files %+v; want only what it wrote", written.Path, written.Files)
	}

	var tree dirBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/tree/", root), nil, http.StatusOK, &tree)
	var got []string
	var walk func(dirBody)
	walk = func(dir dirBody) {
		for _, f := range dir.Files {
			rel, _ := filepath.Rel(root, f.Path)
			got = append(got, rel)
			if f.Permissions == "" || f.Owner == "" || f.LastModified == "" {
				t.Errorf("tree file %s lacks fields: %+v", rel, f)
			}
		}
		for _, s := range dir.Subdirectories {
			walk(s)
		}
	}
	walk(tree)
	want := "README.md existing.txt docs/with space.txt docs/ü#?.txt src/main.go src/pkg/util.go"
	if strings.Join(got, " ") != want {
		t.Errorf("tree = %s\nwant   %s", strings.Join(got, " "), want)
	}
	// The working directory, as writeTree without a destination sends it.
	var wdTree dirBody
	d.doJSON(http.MethodPut, "/filesystem/tree/", map[string]any{"files": map[string]string{"top.txt": "t"}}, http.StatusOK, &wdTree)
	if wdTree.Path != d.workDir || filesReadFile(t, filepath.Join(d.workDir, "top.txt")) != "t" {
		t.Errorf("tree at the working dir: %+v", wdTree)
	}

	for _, bad := range []map[string]any{
		{"files": map[string]string{"../escape.txt": "x"}},
		{"files": map[string]string{"a/../../escape.txt": "x"}},
		{"files": map[string]string{"/etc/evil": "x"}},
		{"files": map[string]string{"ok": "1", "ok/nested": "2"}},
		{"nofiles": true},
	} {
		d.wantError(http.MethodPut, filesEnc("/filesystem/tree/", root), bad, http.StatusBadRequest)
	}
	if _, err := os.Stat(filepath.Join(d.workDir, "escape.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a tree key escaped its root")
	}
	d.wantError(http.MethodGet, filesEnc("/filesystem/tree/", filepath.Join(root, "README.md")), nil, http.StatusUnprocessableEntity)

	d.doJSON(http.MethodDelete, filesEnc("/filesystem/tree/", root), nil, http.StatusOK, nil)
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DELETE tree left %s: %v", root, err)
	}
	d.wantError(http.MethodDelete, filesEnc("/filesystem/tree/", root), nil, http.StatusNotFound)
}

// filesRawUpload opens a connection and sends the head of a PUT.
func filesRawUpload(t *testing.T, d *daemon, target, headers string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(hangGuard))
	if _, err := fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\n%s\r\n", target, headers); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestFSCutOffUploadKeepsOldFile: a client that disconnects in the middle
// of an upload leaves the old file whole and no temporary file behind.
func TestFSCutOffUploadKeepsOldFile(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "cut")
	p := filepath.Join(dir, "file.bin")
	old := strings.Repeat("old content ", 1000)
	filesPutJSON(t, d, p, old)
	half := bytes.Repeat([]byte("N"), 4<<20)

	cases := map[string]func() net.Conn{
		"content-length": func() net.Conn {
			conn := filesRawUpload(t, d, filesEnc("/filesystem/", p), fmt.Sprintf("Content-Type: application/octet-stream\r\nContent-Length: %d\r\n", 2*len(half)))
			conn.Write(half)
			return conn
		},
		"chunked": func() net.Conn {
			conn := filesRawUpload(t, d, filesEnc("/filesystem/", p), "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n")
			fmt.Fprintf(conn, "%x\r\n", len(half))
			conn.Write(half)
			conn.Write([]byte("\r\n"))
			return conn
		},
		"multipart": func() net.Conn {
			form, ct := filesForm(t, append(half, half...), "0644", "")
			conn := filesRawUpload(t, d, filesEnc("/filesystem/", p), fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d\r\n", ct, len(form)))
			conn.Write(form[:len(form)/2])
			return conn
		},
	}
	for name, start := range cases {
		conn := start()
		// The upload is under way: its temporary file is on disk.
		testsupport.Eventually(t, func() (bool, string) {
			return len(filesTemps(t, dir)) == 1, name + ": no temporary file while uploading"
		})
		conn.Close()
		testsupport.Eventually(t, func() (bool, string) {
			return len(filesTemps(t, dir)) == 0, name + ": temporary file left after the client went away"
		})
		if got := filesReadFile(t, p); got != old {
			t.Errorf("%s: a cut-off upload changed the file (%d bytes, starts %.20q)", name, len(got), got)
		}
	}
	// The daemon still serves, and the same path accepts a full upload.
	resp, _ := d.do(http.MethodPut, filesEnc("/filesystem/", p), "complete", "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusOK || filesReadFile(t, p) != "complete" {
		t.Errorf("upload after the cut-offs: %d", resp.StatusCode)
	}
}

// filesPattern is an endless reader of a fixed pattern that hashes what
// it hands out.
type filesPattern struct {
	left int64
	h    io.Writer
}

func (p *filesPattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := len(b)
	if int64(n) > p.left {
		n = int(p.left)
	}
	for i := range b[:n] {
		b[i] = byte((p.left - int64(i)) * 31)
	}
	p.h.Write(b[:n])
	p.left -= int64(n)
	return n, nil
}

// TestFSUploadMemoryBounded: a 600 MB upload streams to disk; the daemon's
// RSS barely moves.
func TestFSUploadMemoryBounded(t *testing.T) {
	t.Parallel()
	const total = 600 << 20
	d := startDaemon(t, daemonOptions{})
	p := filepath.Join(d.workDir, "big.bin")
	for i := 0; i < 3; i++ { // warm the upload path up; the base is what it left
		d.do(http.MethodPut, filesEnc("/filesystem/", p), bytes.Repeat([]byte("w"), 1<<20), "Content-Type", "application/octet-stream")
	}
	base, err := rssBytes(d.pid)
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(d.pid, 20*time.Millisecond)
	h := sha256.New()
	req := d.request(t.Context(), http.MethodPut, filesEnc("/filesystem/", p), nil, "Content-Type", "application/octet-stream")
	req.Body = io.NopCloser(&filesPattern{left: total, h: h})
	req.ContentLength = total
	start := time.Now()
	resp, err := d.stream.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	peak := sampler.stop()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", resp.StatusCode, answer)
	}
	growth := peak - base
	t.Logf("uploaded %d MB in %s; daemon RSS %.1f MB → peak %.1f MB (+%.1f MB)",
		total>>20, took.Round(time.Millisecond), float64(base)/1e6, float64(peak)/1e6, float64(growth)/1e6)
	if growth > 16<<20 {
		t.Errorf("daemon RSS grew by %.1f MB during a %d MB upload, want < 16 MB", float64(growth)/(1<<20), total>>20)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	onDisk := sha256.New()
	if n, _ := io.Copy(onDisk, f); n != total {
		t.Fatalf("file has %d bytes, want %d", n, total)
	}
	if hex.EncodeToString(onDisk.Sum(nil)) != hex.EncodeToString(h.Sum(nil)) {
		t.Errorf("uploaded bytes differ from those sent")
	}
}

// TestFSDiskFullIs507: an upload that fills the disk answers 507, and the
// old file and the folder are as they were.
func TestFSDiskFullIs507(t *testing.T) {
	t.Parallel()
	dir := testdisk.Small(t, "1m")
	d := startDaemon(t, daemonOptions{})
	p := filepath.Join(dir, "f.bin")
	filesPutJSON(t, d, p, "old")
	big := bytes.Repeat([]byte("z"), 3<<20)
	msg := d.wantError(http.MethodPut, filesEnc("/filesystem/", p), map[string]any{"content": string(big)}, http.StatusInsufficientStorage)
	if !strings.Contains(msg, "no space") || strings.Contains(msg, "sandbox-api-tmp") {
		t.Errorf("507 message %q: want 'no space', without the temporary file's name", msg)
	}
	resp, body := d.do(http.MethodPut, filesEnc("/filesystem/", p), big, "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Errorf("raw upload to a full disk: %d %s", resp.StatusCode, body)
	}
	form, ct := filesForm(t, big, "", "")
	resp, body = d.do(http.MethodPut, filesEnc("/filesystem/", p), form, "Content-Type", ct)
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Errorf("multipart upload to a full disk: %d %s", resp.StatusCode, body)
	}
	if got := filesReadFile(t, p); got != "old" {
		t.Errorf("the old file reads %.20q", got)
	}
	if temps := filesTemps(t, dir); len(temps) > 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}
