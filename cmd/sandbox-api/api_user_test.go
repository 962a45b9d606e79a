package main

// --user end to end, through the real daemon: processes and terminal shells
// run as the user, files are written and refused as the user's own would
// be, and nothing the user runs reaches the daemon.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// userDaemon is a daemon started with --user nobody whose working folder
// anyone may write. It holds root's files:
//
//	secret       0600 "root only needle"
//	private/     0700, with private/inner.txt
//	locked/      0755, with locked/file.txt 0644
type userDaemon struct {
	*daemon
	uid, gid, home string
}

func startUserDaemon(t *testing.T, extra ...string) userDaemon {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	pw, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	d := startDaemon(t, daemonOptions{args: append([]string{"--user", "nobody"}, extra...)})
	wd := d.workDir
	for dir := filepath.Dir(wd); dir != os.TempDir(); dir = filepath.Dir(dir) { // t.TempDir's folders are root's only
		mustOK(t, os.Chmod(dir, 0o755))
	}
	mustOK(t,
		os.Chmod(wd, 0o777),
		os.WriteFile(filepath.Join(wd, "secret"), []byte("root only needle"), 0o600),
		os.Mkdir(filepath.Join(wd, "private"), 0o700),
		os.WriteFile(filepath.Join(wd, "private", "inner.txt"), []byte("needle"), 0o644),
		os.Mkdir(filepath.Join(wd, "locked"), 0o755),
		os.WriteFile(filepath.Join(wd, "locked", "file.txt"), []byte("root's"), 0o644),
	)
	return userDaemon{daemon: d, uid: pw.Uid, gid: pw.Gid, home: pw.HomeDir}
}

func mustOK(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// fsPath is the /filesystem URL of a file of the working folder.
func (d userDaemon) fsPath(route, rel string) string {
	return route + "/" + url.PathEscape(filepath.Join(d.workDir, rel))
}

func (d userDaemon) wantOwner(t *testing.T, rel string) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(d.workDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if strconv.Itoa(int(st.Uid)) != d.uid || strconv.Itoa(int(st.Gid)) != d.gid {
		t.Errorf("%s belongs to %d:%d, want nobody's %s:%s", rel, st.Uid, st.Gid, d.uid, d.gid)
	}
}

func (d userDaemon) wantUntouched(t *testing.T, rel, content string) {
	t.Helper()
	if data, err := os.ReadFile(filepath.Join(d.workDir, rel)); err != nil || string(data) != content {
		t.Errorf("%s is now %q (%v), want %q", rel, data, err, content)
	}
}

func (d userDaemon) wantStatus(t *testing.T, want int, method, path string, body any, header ...string) {
	t.Helper()
	if resp, data := d.do(method, path, body, header...); resp.StatusCode != want {
		t.Errorf("%s %s: %d %s, want %d", method, path, resp.StatusCode, testsupport.Truncate(data), want)
	}
}

func TestUserProcesses(t *testing.T) {
	t.Parallel()
	d := startUserDaemon(t)
	p := d.exec(map[string]any{"command": `echo "$(id -u)|$(id -g)|$(id -G)|$HOME|$USER|$LOGNAME|$(pwd)"`, "waitForCompletion": true})
	if want := d.uid + "|" + d.gid + "|" + d.gid + "|" + d.home + "|nobody|nobody|" + d.workDir + "\n"; p.StdoutText() != want {
		t.Errorf("id -u|id -g|id -G|HOME|USER|LOGNAME|pwd = %q, want %q", p.StdoutText(), want)
	}
	// Nothing in a request asks for root: not a user field, not the
	// environment.
	p = d.exec(map[string]any{"command": "id -u", "user": "root", "env": map[string]string{"USER": "root", "HOME": "/root"}, "waitForCompletion": true})
	if p.StdoutText() != d.uid+"\n" {
		t.Errorf("with user root and USER=root in the request, id -u = %q, want nobody's %s", p.StdoutText(), d.uid)
	}
	// The boot command too.
	d2 := startUserDaemon(t, "-c", "id -u")
	if p := d2.waitEnded("boot-command"); p.Status != "completed" || p.StdoutText() != d.uid+"\n" {
		t.Errorf("boot command: %s %q, want nobody's uid", p.Status, p.StdoutText())
	}
}

// A process run as the user can neither read the daemon's environment or
// memory nor signal it.
func TestUserCannotReachTheDaemon(t *testing.T) {
	t.Parallel()
	d := startUserDaemon(t)
	pid := strconv.Itoa(d.pid)
	for _, cmd := range []string{
		"cat /proc/" + pid + "/environ",
		"head -c1 /proc/" + pid + "/mem",
		"ls /proc/" + pid + "/fd",
		"kill -0 " + pid,
		"kill -TERM " + pid,
	} {
		p := d.exec(map[string]any{"command": cmd, "waitForCompletion": true})
		if p.ExitCode == 0 || p.StdoutText() != "" {
			t.Errorf("%s as nobody: exit %d, stdout %q, stderr %q; want a refusal", cmd, p.ExitCode, p.StdoutText(), p.StderrText())
		}
	}
	d.doJSON(http.MethodGet, "/health", nil, http.StatusOK, nil) // still there
}

func TestUserFiles(t *testing.T) {
	t.Parallel()
	d := startUserDaemon(t)

	// Writes belong to the user, folders made on the way too.
	d.wantStatus(t, 200, http.MethodPut, d.fsPath("/filesystem", "new/mine.txt"), "hello", "Content-Type", "application/octet-stream")
	d.wantOwner(t, "new/mine.txt")
	d.wantOwner(t, "new")
	d.wantStatus(t, 200, http.MethodPut, d.fsPath("/filesystem", "json.txt"), map[string]any{"content": "x"})
	d.wantOwner(t, "json.txt")

	// Root's file: no read, no download, no write of any kind.
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "secret"), nil)
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "secret")+"?download=true", nil)
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "secret"), nil, "Accept", "application/octet-stream")
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem", "secret"), map[string]any{"content": "overwritten"})
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem", "secret"), "overwritten", "Content-Type", "application/octet-stream")
	form, ct := mpForm(t, []byte("overwritten"))
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem", "secret"), form, "Content-Type", ct)
	mp := mpDaemon{daemon: d.daemon}
	id, _ := mp.initiate(url.PathEscape(filepath.Join(d.workDir, "secret")), nil)
	part := mp.putPart(id, 1, []byte("overwritten"))
	d.wantStatus(t, 403, http.MethodPost, "/filesystem-multipart/"+id+"/complete", map[string]any{"parts": []mpPart{part}})
	d.wantUntouched(t, "secret", "root only needle")

	// Root's folders: not listed, not walked, not watched, not written.
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "private"), nil)
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem/tree", "private"), nil)
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/watch/filesystem", "private"), nil)
	d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "private/inner.txt"), nil)
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem", "locked/file.txt"), "x", "Content-Type", "application/octet-stream")
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem", "locked/sub"), map[string]any{"isDirectory": true})
	d.wantStatus(t, 403, http.MethodDelete, d.fsPath("/filesystem", "locked/file.txt"), nil)
	d.wantStatus(t, 403, http.MethodPut, d.fsPath("/filesystem/tree", "locked"), map[string]any{"files": map[string]string{"t.txt": "x"}})
	d.wantUntouched(t, "locked/file.txt", "root's")

	// Searches see what the user sees: the names in root's folder, not its
	// content; nothing of root's private folder.
	for _, path := range []string{
		"/filesystem-content-search/" + url.PathEscape(d.workDir) + "?query=needle",
		"/filesystem-find/" + url.PathEscape(d.workDir),
		"/filesystem-search/" + url.PathEscape(d.workDir) + "?query=inner",
	} {
		resp, body := d.do(http.MethodGet, path, nil)
		if resp.StatusCode != 200 || bytes.Contains(body, []byte("inner.txt")) || bytes.Contains(body, []byte("root only")) {
			t.Errorf("GET %s as nobody: %d %s; want root's files left out", path, resp.StatusCode, testsupport.Truncate(body))
		}
	}

	// The MCP file tools are the same operations.
	sess, err := connectMCP(t, d.daemon, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for tool, args := range map[string]map[string]any{
		"fsReadFile":           {"path": filepath.Join(d.workDir, "secret")},
		"codegenReadFileRange": {"targetFile": filepath.Join(d.workDir, "secret")},
		"fsWriteFile":          {"path": filepath.Join(d.workDir, "secret"), "content": "overwritten"},
		"fsEditFile":           {"path": filepath.Join(d.workDir, "secret"), "oldString": "root", "newString": "mcp"},
		"fsListDirectory":      {"path": filepath.Join(d.workDir, "private")},
	} {
		res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
		if err != nil || !res.IsError {
			t.Errorf("MCP %s on root's file as nobody: err %v, result %+v; want a tool error", tool, err, res)
		}
	}
	d.wantUntouched(t, "secret", "root only needle")
	res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: "fsWriteFile", Arguments: map[string]any{"path": filepath.Join(d.workDir, "mcp.txt"), "content": "m"}})
	if err != nil || res.IsError {
		t.Fatalf("MCP fsWriteFile: %v %+v", err, res)
	}
	d.wantOwner(t, "mcp.txt")
}

func TestUserTerminal(t *testing.T) {
	t.Parallel()
	d := startUserDaemon(t)
	tc := dialTerminal(t, d.daemon, "workingDir=/")
	tc.input("echo \"id-$(id -u)-$USER-$((6*7))\"\r")
	tc.mustSee("id-" + d.uid + "-nobody-42")
}

// Requests acting as the user and the daemon's own work as root (parts of
// uploads in its private folder, process logs), all at once: each keeps
// its identity.
func TestUserConcurrentRequests(t *testing.T) {
	t.Parallel()
	d := startUserDaemon(t)
	mp := mpDaemon{daemon: d.daemon}
	const workers, rounds = 6, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				name := fmt.Sprintf("c-%d-%d.txt", w, i)
				switch w % 3 {
				case 0: // as the user
					d.wantStatus(t, 200, http.MethodPut, d.fsPath("/filesystem", name), "x", "Content-Type", "application/octet-stream")
					d.wantOwner(t, name)
					d.wantStatus(t, 403, http.MethodGet, d.fsPath("/filesystem", "secret"), nil)
				case 1: // parts land in the daemon's own folder, 0700 root
					id, _ := mp.initiate(url.PathEscape(filepath.Join(d.workDir, name)), nil)
					part := mp.putPart(id, 1, []byte("part"))
					mp.complete(id, part)
					d.wantOwner(t, name)
				case 2: // the log is the daemon's, the process the user's
					p := d.exec(map[string]any{"command": "id -u", "waitForCompletion": true})
					if p.StdoutText() != d.uid+"\n" {
						t.Errorf("id -u = %q under load", p.StdoutText())
					}
				}
			}
		})
	}
	wg.Wait()
}
