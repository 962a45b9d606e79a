package main

// Black-box tests of special files (issue 12): no write replaces a FIFO,
// socket or device node (or a symlink to one) with a regular file, and
// HEAD answers the status GET would.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// makeSpecialNodes makes a FIFO, a socket, a copy of /dev/null (the same
// device numbers: PUT /filesystem//dev/null itself would, on a daemon that
// got it wrong, break the machine running the tests) and a symlink to the
// FIFO in dir. It returns each name with the file type it must keep.
func makeSpecialNodes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	nodes := map[string]fs.FileMode{"fifo": fs.ModeNamedPipe, "socket": fs.ModeSocket, "link-to-fifo": fs.ModeSymlink}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "socket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := os.Symlink("fifo", filepath.Join(dir, "link-to-fifo")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		nodes["null"] = fs.ModeDevice | fs.ModeCharDevice
	} else {
		t.Logf("no device node (%v): that case is skipped", err)
	}
	return nodes
}

// nodeIntact checks the node at p kept its type (a link: its FIFO target).
func nodeIntact(t *testing.T, p string, typ fs.FileMode) bool {
	t.Helper()
	lst, err := os.Lstat(p)
	if err != nil || lst.Mode().Type() != typ {
		t.Errorf("%s: %v %v, want a %v: it was replaced", p, lst, err, typ)
		return false
	}
	if typ == fs.ModeSymlink {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
			t.Errorf("the target of %s is no longer a FIFO: %v %v", p, fi, err)
			return false
		}
	}
	return true
}

func formBody(t *testing.T, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "x")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte("clobbered"))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// TestWritesNeverReplaceSpecialFiles sends every write path of the API
// onto every kind of node: each is refused with 422 and the node stays.
func TestWritesNeverReplaceSpecialFiles(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	dir := filepath.Join(d.workDir, "nodes")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := makeSpecialNodes(t, dir)
	sess, err := connectMCP(t, d.daemon, "")
	if err != nil {
		t.Fatal(err)
	}
	type write func(p string) (status int, body []byte)
	writes := map[string]write{
		"PUT JSON": func(p string) (int, []byte) {
			resp, body := d.do(http.MethodPut, "/filesystem/"+p, map[string]string{"content": "clobbered"})
			return resp.StatusCode, body
		},
		"PUT raw": func(p string) (int, []byte) {
			resp, body := d.do(http.MethodPut, "/filesystem/"+p, "clobbered", "Content-Type", "application/octet-stream")
			return resp.StatusCode, body
		},
		"PUT multipart form": func(p string) (int, []byte) {
			body, ct := formBody(t, nil)
			resp, out := d.do(http.MethodPut, "/filesystem/"+p, body, "Content-Type", ct)
			return resp.StatusCode, out
		},
		"PUT multipart form with a path field": func(p string) (int, []byte) {
			body, ct := formBody(t, map[string]string{"path": p})
			resp, out := d.do(http.MethodPut, "/filesystem/"+filepath.Join(d.workDir, "elsewhere"), body, "Content-Type", ct)
			return resp.StatusCode, out
		},
		"PUT tree": func(p string) (int, []byte) {
			resp, body := d.do(http.MethodPut, "/filesystem/tree/"+filepath.Dir(p),
				map[string]any{"files": map[string]string{"a-first": "x", filepath.Base(p): "clobbered"}})
			if _, err := os.Stat(filepath.Join(dir, "a-first")); err == nil {
				t.Errorf("PUT tree wrote a-first before refusing %s", p)
				_ = os.Remove(filepath.Join(dir, "a-first"))
			}
			return resp.StatusCode, body
		},
		"multipart initiate": func(p string) (int, []byte) {
			resp, body := d.do(http.MethodPost, "/filesystem-multipart/initiate/"+p, map[string]any{})
			return resp.StatusCode, body
		},
		"multipart complete onto a node made after initiate": func(p string) (int, []byte) {
			later := filepath.Join(dir, "later")
			id, _ := d.initiate(later, map[string]any{})
			part := d.putPart(id, 1, []byte("clobbered"))
			if err := os.Rename(p, later); err != nil {
				t.Fatal(err)
			}
			defer os.Rename(later, p)
			resp, body := d.do(http.MethodPost, "/filesystem-multipart/"+id+"/complete", map[string]any{"parts": []mpPart{part}})
			nodeIntact(t, later, nodes[filepath.Base(p)])
			return resp.StatusCode, body
		},
		"MCP fsWriteFile": func(p string) (int, []byte) {
			res, err := sess.CallTool(context.Background(), &sdk.CallToolParams{Name: "fsWriteFile",
				Arguments: map[string]any{"path": p, "content": "clobbered"}})
			if err != nil {
				t.Fatalf("fsWriteFile: %v", err)
			}
			if !res.IsError {
				return http.StatusOK, nil
			}
			text := res.Content[0].(*sdk.TextContent).Text
			return http.StatusUnprocessableEntity, []byte(fmt.Sprintf(`{"error": %q}`, text))
		},
	}
	for wname, write := range writes {
		for node, typ := range nodes {
			p := filepath.Join(dir, node)
			status, body := write(p)
			var e struct{ Error string }
			if status != http.StatusUnprocessableEntity || json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("%s onto %s: %d %s, want 422 with an error", wname, node, status, testsupport.Truncate(body))
			}
			if !nodeIntact(t, p, typ) {
				t.Fatalf("%s replaced %s", wname, node)
			}
		}
	}

	// The node of the issue itself, once its copy is known to be refused.
	if _, ok := nodes["null"]; ok && !t.Failed() {
		resp, body := d.do(http.MethodPut, "/filesystem//dev/null", "clobbered", "Content-Type", "application/octet-stream")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("PUT /filesystem//dev/null: %d %s, want 422", resp.StatusCode, testsupport.Truncate(body))
		}
		nodeIntact(t, "/dev/null", fs.ModeDevice|fs.ModeCharDevice)
	}
}

// TestHeadAnswersAsGet: for every kind of path, HEAD's status is GET's,
// as a JSON read and as a download.
func TestHeadAnswersAsGet(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := d.workDir
	makeSpecialNodes(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := map[string]int{ // path → the status GET gives
		filepath.Join(dir, "fifo"):         http.StatusUnprocessableEntity,
		filepath.Join(dir, "socket"):       http.StatusUnprocessableEntity,
		filepath.Join(dir, "link-to-fifo"): http.StatusUnprocessableEntity,
		filepath.Join(dir, "missing"):      http.StatusNotFound,
		filepath.Join(dir, "file"):         http.StatusOK,
		filepath.Join(dir, "folder"):       http.StatusOK,
		"/proc/sys/vm/drop_caches":         http.StatusForbidden, // write-only, even for root
		"/proc/self/pagemap":               http.StatusRequestEntityTooLarge,
		"/sys/devices/system/cpu/online":   http.StatusOK,
	}
	if _, err := os.Stat(filepath.Join(dir, "null")); err == nil {
		paths[filepath.Join(dir, "null")] = http.StatusUnprocessableEntity
	}
	for p, want := range paths {
		if _, err := os.Lstat(p); err != nil && want != http.StatusNotFound {
			t.Logf("%s: %v; skipped", p, err)
			continue
		}
		for _, query := range []string{"", "?download=true"} {
			target := "/filesystem/" + url.PathEscape(p) + query
			if query != "" && p == "/proc/self/pagemap" {
				continue // a download of it streams hundreds of GiB
			}
			get, _ := d.do(http.MethodGet, target, nil)
			head, _ := d.do(http.MethodHead, target, nil)
			if query == "" && get.StatusCode != want {
				t.Errorf("GET %s: %d, want %d", target, get.StatusCode, want)
			}
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD %s: %d, GET: %d", target, head.StatusCode, get.StatusCode)
			}
		}
	}
}
