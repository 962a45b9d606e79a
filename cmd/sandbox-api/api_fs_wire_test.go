package main

// Black-box tests of the filesystem wire as the existing daemon answers
// it (../shared/reference/OBSERVED.md): the path form with only the
// leading slash encoded, the texts clients match on, and permissions.

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// gluedPath is an absolute path with only its leading slash encoded, glued
// to the prefix: "/filesystem%2Ftmp/x" for /tmp/x, as public clients send it.
func gluedPath(prefix, abs string) string {
	return prefix + "%2F" + strings.TrimPrefix((&url.URL{Path: abs}).EscapedPath(), "/")
}

// wantBody checks the status and that the body is exactly want (a trailing
// newline aside).
func wantBody(t *testing.T, what string, resp *http.Response, body []byte, status int, want string) {
	t.Helper()
	if got := strings.TrimSuffix(string(body), "\n"); resp.StatusCode != status || got != want {
		t.Errorf("%s: %d %s\nwant %d %s", what, resp.StatusCode, got, status, want)
	}
}

// jsonString is s as a JSON string.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// permissionsFirstForm is a multipart upload whose permissions part comes
// before its file part, as public clients build it.
func permissionsFirstForm(t *testing.T, permissions string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("permissions", permissions); err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="blob"`)
	h.Set("Content-Type", "application/octet-stream")
	fw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// TestFSGluedLeadingSlash: every path-taking prefix accepts
// "<prefix>%2F<abs path without its leading slash>".
func TestFSGluedLeadingSlash(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "glued dir")
	file := filepath.Join(dir, "w.txt")

	resp, body := d.do(http.MethodPut, gluedPath("/filesystem", file), map[string]any{"content": "hello glued\n"})
	wantBody(t, "PUT /filesystem%2F…", resp, body, http.StatusOK,
		`{"path":`+jsonString(t, file)+`,"message":"File created/updated successfully"}`)
	if got := filesReadFile(t, file); got != "hello glued\n" {
		t.Fatalf("PUT /filesystem%%2F… wrote %q", got)
	}

	var f fileBody
	d.doJSON(http.MethodGet, gluedPath("/filesystem", file), nil, http.StatusOK, &f)
	if f.Path != file || f.Content != "hello glued\n" {
		t.Errorf("GET /filesystem%%2F…: %+v", f)
	}

	// A multipart form with permissions before the file, as public clients
	// send it, to PUT /filesystem%2F<abs path>.
	bin := filepath.Join(dir, "up.bin")
	data := filesAllBytes()
	form, ct := permissionsFirstForm(t, "0600", data)
	resp, body = d.do(http.MethodPut, gluedPath("/filesystem", bin), form, "Content-Type", ct)
	wantBody(t, "multipart PUT /filesystem%2F…", resp, body, http.StatusOK,
		`{"path":`+jsonString(t, bin)+`,"message":"Binary file uploaded successfully"}`)
	if got := filesReadFile(t, bin); got != string(data) {
		t.Errorf("the multipart upload wrote %d bytes, want the %d sent", len(got), len(data))
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the multipart upload's mode: %v %v, want 0600 from the permissions part", fi, err)
	}

	// /filesystem/tree%2F<abs> is the tree of <abs>.
	d.doJSON(http.MethodPut, gluedPath("/filesystem/tree", dir), map[string]any{"files": map[string]string{"t/x.txt": "x"}}, http.StatusOK, nil)
	if got := filesReadFile(t, filepath.Join(dir, "t", "x.txt")); got != "x" {
		t.Errorf("PUT /filesystem/tree%%2F… wrote %q", got)
	}
	var tree dirBody
	d.doJSON(http.MethodGet, gluedPath("/filesystem/tree", dir), nil, http.StatusOK, &tree)
	if tree.Path != dir || len(tree.Subdirectories) != 1 || tree.Subdirectories[0].Name != "t" || len(tree.Files) != 2 {
		t.Errorf("GET /filesystem/tree%%2F…: %+v, want the tree of %s", tree, dir)
	}

	// The searches.
	var found findResponse
	d.doJSON(http.MethodGet, gluedPath("/filesystem-find", dir)+"?type=file&maxResults=0", nil, http.StatusOK, &found)
	if want := "t/x.txt:file up.bin:file w.txt:file"; strings.Join(found.list(), " ") != want {
		t.Errorf("GET /filesystem-find%%2F…: %q, want %s", found.list(), want)
	}
	var fuzzy fuzzyResponse
	d.doJSON(http.MethodGet, gluedPath("/filesystem-search", dir)+"?query=wtxt", nil, http.StatusOK, &fuzzy)
	if len(fuzzy.Matches) == 0 || fuzzy.Matches[0].Path != "w.txt" {
		t.Errorf("GET /filesystem-search%%2F…: %+v, want w.txt", fuzzy.Matches)
	}
	var content contentResponse
	d.doJSON(http.MethodGet, gluedPath("/filesystem-content-search", dir)+"?query=glued", nil, http.StatusOK, &content)
	if strings.Join(content.lines(), " ") != "w.txt:1" {
		t.Errorf("GET /filesystem-content-search%%2F…: %q, want w.txt:1", content.lines())
	}

	// Multipart initiate.
	var up struct{ UploadID, Path string }
	big := filepath.Join(dir, "big.bin")
	d.doJSON(http.MethodPost, gluedPath("/filesystem-multipart/initiate", big), map[string]any{}, http.StatusOK, &up)
	if up.Path != big || up.UploadID == "" {
		t.Errorf("POST /filesystem-multipart/initiate%%2F…: %+v, want path %s", up, big)
	}
	d.doJSON(http.MethodDelete, "/filesystem-multipart/"+up.UploadID+"/abort", nil, http.StatusOK, nil)

	// A watch: armed on the folder, it reports a file made there.
	w := openWatch(t, d, gluedPath("/watch/filesystem", dir), nil)
	w.wantStream(t)
	touch(t, filepath.Join(dir, "new.txt"))
	w.waitEvent(t, "CREATE", filepath.Join(dir, "new.txt"))

	// The codegen routes answer the glued form as they answer the split one
	// (whatever that answer is), never with a route-not-found 404.
	for _, tc := range []struct{ method, prefix, path, query string }{
		{http.MethodPut, "/codegen/fastapply", file, ""},
		{http.MethodGet, "/codegen/reranking", dir, "?query=x"},
	} {
		split, splitBody := d.do(tc.method, filesEnc(tc.prefix+"/", tc.path)+tc.query, map[string]any{"codeEdit": "x"})
		glued, gluedBody := d.do(tc.method, gluedPath(tc.prefix, tc.path)+tc.query, map[string]any{"codeEdit": "x"})
		if glued.StatusCode == http.StatusNotFound || glued.StatusCode != split.StatusCode || !bytes.Equal(gluedBody, splitBody) {
			t.Errorf("%s %s%%2F…: %d %s; the split form answers %d %s", tc.method, tc.prefix, glued.StatusCode, gluedBody, split.StatusCode, splitBody)
		}
	}

	resp, body = d.do(http.MethodDelete, gluedPath("/filesystem", file), nil)
	wantBody(t, "DELETE /filesystem%2F…", resp, body, http.StatusOK,
		`{"path":`+jsonString(t, file)+`,"message":"File deleted successfully"}`)
}

// TestFSTreeGluedIsTheTreeAPI: "/filesystem/tree%2Fa" is the tree of /a,
// no longer the relative file tree/a; that file is reached as ./tree/a.
func TestFSTreeGluedIsTheTreeAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	abs := filepath.Join(d.workDir, "abs")
	testsupport.WriteTree(t, abs, map[string]string{"only-in-abs.txt": "abs"})
	// The relative file the glued form used to mean: <workDir>/tree/<abs without its slash>.
	relFile := filepath.Join(d.workDir, "tree", strings.TrimPrefix(abs, "/"))
	testsupport.WriteTree(t, filepath.Dir(relFile), map[string]string{filepath.Base(relFile): "relative"})

	var tree dirBody
	d.doJSON(http.MethodGet, gluedPath("/filesystem/tree", abs), nil, http.StatusOK, &tree)
	if tree.Path != abs || len(tree.Files) != 1 || tree.Files[0].Name != "only-in-abs.txt" {
		t.Errorf("GET /filesystem/tree%%2F…: %+v, want the tree of %s", tree, abs)
	}
	var f fileBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", "./tree/"+strings.TrimPrefix(abs, "/")), nil, http.StatusOK, &f)
	if f.Path != relFile || f.Content != "relative" {
		t.Errorf("the relative file written ./tree/…: %+v", f)
	}
}

// TestFSSuccessMessages: each success answer is {"path", "message"} with
// the existing daemon's text.
func TestFSSuccessMessages(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "msg")
	answer := func(p, msg string) string { return `{"path":` + jsonString(t, p) + `,"message":"` + msg + `"}` }

	jsonFile := filepath.Join(dir, "json.txt")
	resp, body := d.do(http.MethodPut, filesEnc("/filesystem/", jsonFile), map[string]any{"content": "x"})
	wantBody(t, "write JSON", resp, body, http.StatusOK, answer(jsonFile, "File created/updated successfully"))
	resp, body = d.do(http.MethodPut, filesEnc("/filesystem/", jsonFile), map[string]any{"content": "again"})
	wantBody(t, "rewrite JSON", resp, body, http.StatusOK, answer(jsonFile, "File created/updated successfully"))

	rawFile := filepath.Join(dir, "raw.bin")
	resp, body = d.do(http.MethodPut, filesEnc("/filesystem/", rawFile), []byte{0, 1}, "Content-Type", "application/octet-stream")
	wantBody(t, "write a raw body", resp, body, http.StatusOK, answer(rawFile, "File created/updated successfully"))

	formFile := filepath.Join(dir, "form.bin")
	form, ct := filesForm(t, []byte("DATA"), "0644", "")
	resp, body = d.do(http.MethodPut, filesEnc("/filesystem/", formFile), form, "Content-Type", ct)
	wantBody(t, "write a multipart form", resp, body, http.StatusOK, answer(formFile, "Binary file uploaded successfully"))

	sub := filepath.Join(dir, "sub")
	resp, body = d.do(http.MethodPut, filesEnc("/filesystem/", sub), map[string]any{"isDirectory": true})
	wantBody(t, "mkdir", resp, body, http.StatusOK, answer(sub, "Directory created successfully"))

	resp, body = d.do(http.MethodDelete, filesEnc("/filesystem/", rawFile)+"?recursive=false", nil)
	wantBody(t, "delete a file", resp, body, http.StatusOK, answer(rawFile, "File deleted successfully"))
	resp, body = d.do(http.MethodDelete, filesEnc("/filesystem/", sub)+"?recursive=false", nil)
	wantBody(t, "delete an empty folder", resp, body, http.StatusOK, answer(sub, "Directory deleted successfully"))
	full := filepath.Join(dir, "full")
	testsupport.WriteTree(t, full, map[string]string{"a/b.txt": "b"})
	resp, body = d.do(http.MethodDelete, filesEnc("/filesystem/", full)+"?recursive=true", nil)
	wantBody(t, "delete a folder recursively", resp, body, http.StatusOK, answer(full, "Directory deleted successfully"))
	testsupport.WriteTree(t, full, map[string]string{"a/b.txt": "b"})
	resp, body = d.do(http.MethodDelete, filesEnc("/filesystem/tree/", full), nil)
	wantBody(t, "delete a tree", resp, body, http.StatusOK, answer(full, "Directory deleted successfully"))

	// Multipart: complete and abort.
	big := filepath.Join(dir, "big.bin")
	var up struct{ UploadID string }
	d.doJSON(http.MethodPost, filesEnc("/filesystem-multipart/initiate/", big), map[string]any{}, http.StatusOK, &up)
	partForm, partCT := filesForm(t, []byte("part one"), "", "")
	var part struct {
		ETag string `json:"etag"`
		Size int64  `json:"size"`
	}
	resp, body = d.do(http.MethodPut, "/filesystem-multipart/"+up.UploadID+"/part?partNumber=1", partForm, "Content-Type", partCT)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &part) != nil {
		t.Fatalf("part: %d %s", resp.StatusCode, body)
	}
	resp, body = d.do(http.MethodPost, "/filesystem-multipart/"+up.UploadID+"/complete",
		map[string]any{"parts": []map[string]any{{"partNumber": 1, "etag": part.ETag, "size": part.Size}}})
	wantBody(t, "multipart complete", resp, body, http.StatusOK, answer(big, "Multipart upload completed successfully"))
	d.doJSON(http.MethodPost, filesEnc("/filesystem-multipart/initiate/", big), map[string]any{}, http.StatusOK, &up)
	resp, body = d.do(http.MethodDelete, "/filesystem-multipart/"+up.UploadID+"/abort", nil)
	wantBody(t, "multipart abort", resp, body, http.StatusOK, `{"message":"Multipart upload aborted successfully"}`)
}

// TestFSErrorTexts: the error texts of OBSERVED.md.
func TestFSErrorTexts(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	missing := filepath.Join(d.workDir, "missing")
	resp, body := d.do(http.MethodGet, filesEnc("/filesystem/", missing), nil)
	wantBody(t, "read missing", resp, body, http.StatusNotFound,
		`{"error":`+jsonString(t, "stat "+missing+": no such file or directory")+`}`)

	full := filepath.Join(d.workDir, "full")
	testsupport.WriteTree(t, full, map[string]string{"sub/b.go": "package b\n"})
	resp, body = d.do(http.MethodDelete, filesEnc("/filesystem/", full), nil)
	wantBody(t, "delete a non-empty folder, not recursive", resp, body, http.StatusUnprocessableEntity,
		`{"error":`+jsonString(t, "error deleting directory: remove "+full+": directory not empty")+`}`)
}

// TestFSPermissionsWithoutLeadingZero: permissions are octal without a
// leading zero wherever a file is described: a read, a listing, a tree.
func TestFSPermissionsWithoutLeadingZero(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "perm")
	testsupport.WriteTree(t, dir, map[string]string{"a.txt": "a", "sub/run.sh": "#!/bin/sh\n"})
	for p, mode := range map[string]os.FileMode{"a.txt": 0o644, "sub/run.sh": 0o755} {
		if err := os.Chmod(filepath.Join(dir, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	var f fileBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", filepath.Join(dir, "a.txt")), nil, http.StatusOK, &f)
	if f.Permissions != "644" {
		t.Errorf("read: permissions %q, want 644", f.Permissions)
	}
	var listing dirBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/", filepath.Join(dir, "sub")), nil, http.StatusOK, &listing)
	if len(listing.Files) != 1 || listing.Files[0].Permissions != "755" {
		t.Errorf("listing: %+v, want run.sh with 755", listing.Files)
	}
	var tree dirBody
	d.doJSON(http.MethodGet, filesEnc("/filesystem/tree/", dir), nil, http.StatusOK, &tree)
	if len(tree.Files) != 1 || tree.Files[0].Permissions != "644" ||
		len(tree.Subdirectories) != 1 || len(tree.Subdirectories[0].Files) != 1 || tree.Subdirectories[0].Files[0].Permissions != "755" {
		t.Errorf("tree: %+v, want a.txt 644 and sub/run.sh 755", tree)
	}
}
