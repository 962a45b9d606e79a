package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

type env struct {
	dir  string
	sess *sdk.ClientSession
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	svc := newTestServices(t, dir)
	srv := httptest.NewServer(Handler(svc))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), testsupport.HangGuard)
	t.Cleanup(cancel)
	c := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil)
	sess, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return &env{dir: dir, sess: sess}
}

// call runs a tool and decodes its structured output into out. It fails the
// test on a protocol error, and returns the tool error text, if any.
func (e *env) call(t *testing.T, name string, args map[string]any, out any) string {
	t.Helper()
	res, err := e.sess.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	if res.IsError {
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		if b.Len() == 0 {
			t.Fatalf("%s: tool error without a message", name)
		}
		return b.String()
	}
	if out != nil {
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: structured content %s: %v", name, raw, err)
		}
	}
	return ""
}

func (e *env) mustCall(t *testing.T, name string, args map[string]any, out any) {
	t.Helper()
	if msg := e.call(t, name, args, out); msg != "" {
		t.Fatalf("%s(%v): tool error %q", name, args, msg)
	}
}

func (e *env) wantError(t *testing.T, name string, args map[string]any, contains string) {
	t.Helper()
	msg := e.call(t, name, args, nil)
	if msg == "" || !strings.Contains(msg, contains) {
		t.Fatalf("%s(%v): error %q, want one containing %q", name, args, msg, contains)
	}
}

var allTools = []string{
	"processesList", "processExecute", "processGet", "processGetLogs", "processStop", "processKill",
	"fsGetWorkingDirectory", "fsListDirectory", "fsReadFile", "fsWriteFile", "fsEditFile", "fsDeleteFileOrDirectory",
	"codegenFileSearch", "codegenGrepSearch", "codegenReadFileRange", "codegenListDir",
}

type schema struct {
	Type        any                `json:"type"`
	Description string             `json:"description"`
	Properties  map[string]*schema `json:"properties"`
	Required    []string           `json:"required"`
}

func TestMCPListTools(t *testing.T) {
	e := newEnv(t)
	res, err := e.sess.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*sdk.Tool{}
	for _, tool := range res.Tools {
		got[tool.Name] = tool
	}
	if len(got) != len(allTools) {
		t.Errorf("%d tools, want %d", len(got), len(allTools))
	}
	required := map[string][]string{
		"processExecute": {"command"}, "processGet": {"identifier"}, "processGetLogs": {"identifier"},
		"processStop": {"identifier"}, "processKill": {"identifier"}, "fsListDirectory": {"path"},
		"fsReadFile": {"path"}, "fsWriteFile": {"path"}, "fsEditFile": {"path", "oldString", "newString"},
		"fsDeleteFileOrDirectory": {"path"}, "codegenFileSearch": {"query"}, "codegenGrepSearch": {"query"},
		"codegenReadFileRange": {"targetFile"},
	}
	for _, name := range allTools {
		tool := got[name]
		if tool == nil {
			t.Errorf("tool %s missing", name)
			continue
		}
		if len(tool.Description) < 20 {
			t.Errorf("%s: description %q too short", name, tool.Description)
		}
		for kind, s := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			raw, _ := json.Marshal(s)
			var sc schema
			if err := json.Unmarshal(raw, &sc); err != nil || sc.Type != "object" {
				t.Errorf("%s %s schema %s is not an object", name, kind, raw)
				continue
			}
			for prop, p := range sc.Properties {
				if p.Description == "" {
					t.Errorf("%s %s property %s has no description", name, kind, prop)
				}
			}
			if kind == "input" && strings.Join(sc.Required, ",") != strings.Join(required[name], ",") {
				t.Errorf("%s required = %v, want %v", name, sc.Required, required[name])
			}
		}
	}
}

func TestMCPProcessTools(t *testing.T) {
	e := newEnv(t)
	var p ProcessInfo
	e.mustCall(t, "processExecute", map[string]any{"command": "echo out; echo err >&2; echo $FOO; pwd", "name": "hello",
		"env": map[string]any{"FOO": "bar"}, "waitForCompletion": true}, &p)
	if p.Status != "completed" || p.ExitCode != 0 || p.Name != "hello" {
		t.Errorf("processExecute = %+v", p)
	}
	for _, want := range []string{"out\n", "err\n", "bar\n", e.dir} {
		if !strings.Contains(p.Logs, want) {
			t.Errorf("logs %q lack %q", p.Logs, want)
		}
	}
	var failed ProcessInfo
	e.mustCall(t, "processExecute", map[string]any{"command": "exit 3", "waitForCompletion": true}, &failed)
	if failed.Status != "failed" || failed.ExitCode != 3 {
		t.Errorf("failing command = %+v", failed)
	}

	var got ProcessInfo
	e.mustCall(t, "processGet", map[string]any{"identifier": "hello"}, &got)
	if got.PID != p.PID || got.Status != "completed" {
		t.Errorf("processGet = %+v", got)
	}
	var logs LogsOut
	e.mustCall(t, "processGetLogs", map[string]any{"identifier": p.PID}, &logs)
	if logs.Stdout != "out\nbar\n"+e.dir+"\n" || logs.Stderr != "err\n" {
		t.Errorf("processGetLogs = %+v", logs)
	}
	var list ListProcessesOut
	e.mustCall(t, "processesList", nil, &list)
	if len(list.Processes) != 2 {
		t.Errorf("processesList = %+v", list)
	}

	e.mustCall(t, "processExecute", map[string]any{"command": "sleep 60", "name": "sleeper"}, &got)
	if got.Status != "running" {
		t.Errorf("background process = %+v", got)
	}
	e.mustCall(t, "processStop", map[string]any{"identifier": "sleeper"}, &got)
	if got.Status != "stopped" {
		t.Errorf("processStop = %+v", got)
	}
	e.mustCall(t, "processExecute", map[string]any{"command": "sleep 60", "name": "victim"}, nil)
	e.mustCall(t, "processKill", map[string]any{"identifier": "victim"}, &got)
	if got.Status != "killed" {
		t.Errorf("processKill = %+v", got)
	}

	e.wantError(t, "processGet", map[string]any{"identifier": "nope"}, "not found")
	e.wantError(t, "processGetLogs", map[string]any{"identifier": "nope"}, "not found")
	e.wantError(t, "processStop", map[string]any{"identifier": "nope"}, "not found")
	e.wantError(t, "processKill", map[string]any{"identifier": "nope"}, "not found")
	e.wantError(t, "processExecute", map[string]any{"command": " "}, "command is required")
	e.wantError(t, "processExecute", map[string]any{"command": "sleep 5", "waitForCompletion": true, "timeout": 1}, "still running")
	e.wantError(t, "processExecute", map[string]any{}, "command")
	// A timeout too large for a time.Duration must not wrap to a short one.
	e.wantError(t, "processExecute", map[string]any{"command": "true", "waitForCompletion": true, "timeout": int64(1) << 62}, "at most")
}

func TestMCPProcessWaitForPorts(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	py, err := findExe("python3")
	if err != nil {
		t.Fatal("no python3: run make test, which installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	e := newEnv(t)
	var p ProcessInfo
	e.mustCall(t, "processExecute", map[string]any{"command": fmt.Sprintf("exec %s -m http.server %d --bind 127.0.0.1", py, port),
		"name": "web", "waitForPorts": []int{port}, "timeout": 20}, &p)
	if p.Status != "running" {
		t.Errorf("server after waitForPorts = %+v", p)
	}
	e.mustCall(t, "processKill", map[string]any{"identifier": "web"}, nil)
	e.wantError(t, "processExecute", map[string]any{"command": "sleep 60", "waitForPorts": []int{port}, "timeout": 1}, "ports")
}

func findExe(name string) (string, error) {
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func TestMCPProcessRestartOnFailure(t *testing.T) {
	e := newEnv(t)
	e.mustCall(t, "processExecute", map[string]any{"command": "exit 1", "name": "flaky", "restartOnFailure": true, "maxRestarts": 1}, nil)
	var p ProcessInfo
	testsupport.Until(t, "the restarted process to end", func() bool {
		e.mustCall(t, "processGet", map[string]any{"identifier": "flaky"}, &p)
		return p.Status != "running"
	})
	if p.Status != "failed" || p.RestartCount != 1 {
		t.Errorf("after restarts: %+v", p)
	}
}

func TestMCPLogsAreBounded(t *testing.T) {
	e := newEnv(t)
	var p ProcessInfo
	e.mustCall(t, "processExecute", map[string]any{"command": fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x", 3*MaxLogBytes), "waitForCompletion": true}, &p)
	if len(p.Logs) != MaxLogBytes || !strings.Contains(p.Note, "cut") {
		t.Errorf("logs %d bytes, note %q", len(p.Logs), p.Note)
	}
}

func TestMCPFileTools(t *testing.T) {
	e := newEnv(t)
	var wd WorkingDirOut
	e.mustCall(t, "fsGetWorkingDirectory", nil, &wd)
	if wd.WorkingDirectory != e.dir {
		t.Errorf("working dir = %q, want %q", wd.WorkingDirectory, e.dir)
	}
	var w PathOut
	e.mustCall(t, "fsWriteFile", map[string]any{"path": "sub/a.txt", "content": "hello world\nhello again\n"}, &w)
	if w.Path != filepath.Join(e.dir, "sub/a.txt") {
		t.Errorf("fsWriteFile path = %q", w.Path)
	}
	var r ReadFileOut
	e.mustCall(t, "fsReadFile", map[string]any{"path": w.Path}, &r)
	if r.Content != "hello world\nhello again\n" || r.Truncated {
		t.Errorf("fsReadFile = %+v", r)
	}
	var ls ListDirOut
	e.mustCall(t, "fsListDirectory", map[string]any{"path": "."}, &ls)
	if len(ls.Entries) != 1 || ls.Entries[0].Name != "sub" || !ls.Entries[0].IsDir {
		t.Errorf("fsListDirectory = %+v", ls)
	}
	e.mustCall(t, "fsListDirectory", map[string]any{"path": "sub"}, &ls)
	if len(ls.Entries) != 1 || ls.Entries[0].Name != "a.txt" || ls.Entries[0].Size != 24 {
		t.Errorf("fsListDirectory sub = %+v", ls)
	}

	// fsEditFile: success and every error.
	var ed EditFileOut
	e.mustCall(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "world", "newString": "there"}, &ed)
	if ed.OccurrencesReplaced != 1 || ed.Path != w.Path {
		t.Errorf("fsEditFile = %+v", ed)
	}
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "hello", "newString": "bye"}, "occurs 2 times")
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "absent", "newString": "x"}, "not found")
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "hello", "newString": "hello"}, "identical")
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "", "newString": "x"}, "empty")
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub/missing.txt", "oldString": "a", "newString": "b"}, "missing.txt")
	e.wantError(t, "fsEditFile", map[string]any{"path": "sub", "oldString": "a", "newString": "b"}, "folder")
	e.mustCall(t, "fsEditFile", map[string]any{"path": "sub/a.txt", "oldString": "hello", "newString": "bye", "replaceAll": true}, &ed)
	if ed.OccurrencesReplaced != 2 {
		t.Errorf("replaceAll = %+v", ed)
	}
	if b, _ := os.ReadFile(w.Path); string(b) != "bye there\nbye again\n" {
		t.Errorf("after edits: %q", b)
	}

	e.wantError(t, "fsReadFile", map[string]any{"path": "nope.txt"}, "nope.txt")
	e.wantError(t, "fsReadFile", map[string]any{"path": "sub"}, "folder")
	e.wantError(t, "fsListDirectory", map[string]any{"path": "nope"}, "nope")
	e.wantError(t, "fsDeleteFileOrDirectory", map[string]any{"path": "sub"}, "recursive")
	var del PathOut
	e.mustCall(t, "fsDeleteFileOrDirectory", map[string]any{"path": "sub", "recursive": true}, &del)
	if _, err := os.Stat(filepath.Join(e.dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("sub still there: %v", err)
	}
}

func TestMCPReadFileIsBounded(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("y", MaxReadBytes+10)
	if err := os.WriteFile(filepath.Join(e.dir, "big"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	var r ReadFileOut
	e.mustCall(t, "fsReadFile", map[string]any{"path": "big"}, &r)
	if !r.Truncated || len(r.Content) != MaxReadBytes || !strings.Contains(r.Note, fmt.Sprintf("offset %d", MaxReadBytes)) {
		t.Errorf("truncated=%v len=%d note=%q", r.Truncated, len(r.Content), r.Note)
	}
	e.mustCall(t, "fsReadFile", map[string]any{"path": "big", "offset": MaxReadBytes}, &r)
	if r.Truncated || r.Content != "yyyyyyyyyy" {
		t.Errorf("rest: truncated=%v content=%q", r.Truncated, r.Content)
	}
}

func TestMCPCodegenTools(t *testing.T) {
	e := newEnv(t)
	for name, content := range map[string]string{
		"server/server.go":    "package server\n\nfunc Serve() {}\n",
		"server/handlers.go":  "package server\n// TODO: more\n",
		"docs/readme.md":      "line1\nline2\nline3\nline4\n",
		"node_modules/x/x.js": "TODO",
	} {
		p := filepath.Join(e.dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var fsOut FileSearchOut
	e.mustCall(t, "codegenFileSearch", map[string]any{"query": "srvgo"}, &fsOut)
	if len(fsOut.Files) == 0 || fsOut.Files[0] != "server/server.go" {
		t.Errorf("codegenFileSearch = %+v", fsOut)
	}
	e.wantError(t, "codegenFileSearch", map[string]any{"query": ""}, "query")

	var g GrepOut
	e.mustCall(t, "codegenGrepSearch", map[string]any{"query": "todo"}, &g)
	if len(g.Matches) != 1 || g.Matches[0].Path != "server/handlers.go" || g.Matches[0].Line != 2 {
		t.Errorf("codegenGrepSearch = %+v", g)
	}
	e.mustCall(t, "codegenGrepSearch", map[string]any{"query": "package", "includePattern": "server.go"}, &g)
	if len(g.Matches) != 1 {
		t.Errorf("codegenGrepSearch with pattern = %+v", g)
	}

	var rg RangeOut
	e.mustCall(t, "codegenReadFileRange", map[string]any{"targetFile": "docs/readme.md", "startLineOneIndexed": 2, "endLineOneIndexedInclusive": 3}, &rg)
	if rg.Content != "2\tline2\n3\tline3\n" || rg.EndLine != 3 || !strings.Contains(rg.Note, "startLineOneIndexed 4") {
		t.Errorf("codegenReadFileRange = %+v", rg)
	}
	e.mustCall(t, "codegenReadFileRange", map[string]any{"targetFile": "docs/readme.md", "startLineOneIndexed": 10}, &rg)
	if rg.Content != "" || !strings.Contains(rg.Note, "4 lines") {
		t.Errorf("range past the end = %+v", rg)
	}
	e.wantError(t, "codegenReadFileRange", map[string]any{"targetFile": "docs/readme.md", "startLineOneIndexed": 3, "endLineOneIndexedInclusive": 2}, "before")
	e.wantError(t, "codegenReadFileRange", map[string]any{"targetFile": "nope"}, "nope")

	var ld ListDirRecOut
	e.mustCall(t, "codegenListDir", nil, &ld)
	joined := strings.Join(ld.Entries, ",")
	if !strings.Contains(joined, "server/server.go") || !strings.Contains(joined, "docs/") || strings.Contains(joined, "node_modules") {
		t.Errorf("codegenListDir = %v", ld.Entries)
	}
}

func TestMCPConcurrentCalls(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var name string
			var args map[string]any
			switch i % 3 {
			case 0:
				name, args = "processExecute", map[string]any{"command": fmt.Sprintf("echo %d", i), "waitForCompletion": true}
			case 1:
				name, args = "fsWriteFile", map[string]any{"path": fmt.Sprintf("f%d.txt", i), "content": fmt.Sprint(i)}
			default:
				name, args = "fsGetWorkingDirectory", nil
			}
			res, err := e.sess.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
			switch {
			case err != nil:
				errs <- fmt.Errorf("call %d: %v", i, err)
			case res.IsError:
				errs <- fmt.Errorf("call %d: tool error %+v", i, res.Content)
			case i%3 == 0 && !strings.Contains(fmt.Sprint(res.StructuredContent), fmt.Sprintf("%d\n", i)):
				errs <- fmt.Errorf("call %d: output %v", i, res.StructuredContent)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
