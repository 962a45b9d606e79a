package main

// Black-box tests of the /process API through the real daemon.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// processFields are the keys of ProcessResponse this daemon always sends.
var processFields = []string{
	"pid", "name", "command", "status", "startedAt", "completedAt", "exitCode",
	"workingDir", "restartOnFailure", "maxRestarts", "restartCount", "keepAlive",
	"stdin", "logs", "stdout", "stderr",
}

// wantFields checks that a ProcessResponse has every field, with the JSON
// type of the contract. A process not waited for has, as the existing
// daemon answers, "logs": null and the streams "".
func wantFields(t *testing.T, body []byte, notWaited bool) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("decode %s: %v", testsupport.Truncate(body), err)
	}
	kind := func(v json.RawMessage) string {
		switch {
		case len(v) == 0:
			return "missing"
		case string(v) == "null":
			return "null"
		case v[0] == '"':
			return "string"
		case v[0] == 't' || v[0] == 'f':
			return "bool"
		default:
			return "number"
		}
	}
	want := map[string]string{
		"pid": "string", "name": "string", "command": "string", "status": "string",
		"startedAt": "string", "completedAt": "string", "exitCode": "number",
		"workingDir": "string", "restartOnFailure": "bool", "maxRestarts": "number",
		"restartCount": "number", "keepAlive": "bool", "stdin": "bool",
		"logs": "string", "stdout": "string", "stderr": "string",
	}
	if notWaited {
		want["logs"] = "null"
	}
	for _, k := range processFields {
		if got := kind(raw[k]); got != want[k] {
			t.Errorf("field %q is %s, want %s: %s", k, got, want[k], testsupport.Truncate(body))
		}
	}
}

// wantWireTime checks the RFC 1123 GMT form of the API's times and returns
// the time.
func wantWireTime(t *testing.T, field, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(http.TimeFormat, s)
	if err != nil || !strings.HasSuffix(s, " GMT") {
		t.Errorf("%s %q is not an RFC 1123 GMT time (%v)", field, s, err)
	}
	return ts
}

func TestExecWaitForCompletion(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	cmd := `echo out; sleep 0.1; echo "<err> & \"q\"" >&2; exit 3`
	resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": cmd, "name": "w", "waitForCompletion": true})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	wantFields(t, body, false)
	var p proc
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.Atoi(p.PID); err != nil || n <= 0 {
		t.Errorf("pid %q is not a positive number", p.PID)
	}
	if p.Name != "w" || p.Command != cmd || p.Status != "failed" || p.ExitCode != 3 {
		t.Errorf("name/command/status/exitCode = %q/%q/%q/%d", p.Name, p.Command, p.Status, p.ExitCode)
	}
	started := wantWireTime(t, "startedAt", p.StartedAt)
	completed := wantWireTime(t, "completedAt", p.CompletedAt)
	if started.Before(before) || completed.Before(started) || completed.After(time.Now().Add(time.Second)) {
		t.Errorf("startedAt %s, completedAt %s: out of order or out of the test's window", started, completed)
	}
	if p.WorkingDir != "" {
		t.Errorf("workingDir %q, want \"\" as the request gave none", p.WorkingDir)
	}
	if p.RestartOnFailure || p.MaxRestarts != 0 || p.RestartCount != 0 || p.KeepAlive || p.Stdin {
		t.Errorf("flags %+v, want all off", p)
	}
	if p.StdoutText() != "out\n" || p.StderrText() != "<err> & \"q\"\n" || p.LogsText() != "out\n<err> & \"q\"\n" {
		t.Errorf("output %q / %q / %q", p.StdoutText(), p.StderrText(), p.LogsText())
	}
	if strings.Contains(string(body), `\u003c`) {
		t.Errorf("the answer HTML-escapes <, > and &: %s", body)
	}

	// Success, no output: empty strings, not null; a name is generated.
	resp, body = d.do(http.MethodPost, "/process", map[string]any{"command": "true", "waitForCompletion": true})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	wantFields(t, body, false)
	_ = json.Unmarshal(body, &p)
	if p.Status != "completed" || p.ExitCode != 0 || p.Name == "" || p.LogsText() != "" {
		t.Errorf("true: %+v", p)
	}
	// A signal death is failed with exit code -1.
	p = d.exec(map[string]any{"command": "kill -9 $$", "waitForCompletion": true})
	if p.Status != "failed" || p.ExitCode != -1 {
		t.Errorf("self-killed process: status %q exit %d, want failed/-1", p.Status, p.ExitCode)
	}
}

func TestExecWithoutWaiting(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": "echo started; sleep 100"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	wantFields(t, body, true)
	var p proc
	_ = json.Unmarshal(body, &p)
	if p.Status != "running" || p.CompletedAt != "" {
		t.Errorf("status %q completedAt %q, want running and \"\"", p.Status, p.CompletedAt)
	}
	wantWireTime(t, "startedAt", p.StartedAt)
	pid, _ := strconv.Atoi(p.PID)
	if !pidLive(pid) {
		t.Errorf("pid %d is not a live process", pid)
	}
	// GET carries the output so far (a string, not null).
	d.waitOutput(p.PID, "started")
	resp, body = d.do(http.MethodGet, "/process/"+p.PID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET running process: %d %s", resp.StatusCode, body)
	}
	wantFields(t, body, false)
	got := d.get(p.PID)
	if got.Status != "running" || got.CompletedAt != "" || got.StdoutText() != "started\n" {
		t.Errorf("GET running process: %+v", got)
	}
}

func TestExecBadRequests(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		body   any
		status int
		want   []string
	}{
		{"malformed", `{"command":`, 400, []string{"invalid request body: "}},
		{"not json", `echo hi`, 400, []string{"invalid request body: "}},
		{"empty body", ``, 400, []string{"invalid request body: ", "empty"}},
		{"trailing data", `{"command":"true"} {"x":1}`, 400, nil},
		{"wrong type", `{"command":42}`, 400, nil},
		{"missing command", `{}`, 400, []string{"Command", "required"}},
		{"blank command", `{"command":"   "}`, 400, []string{"command"}},
		{"missing working dir", map[string]any{"command": "true", "workingDir": "/no/such/dir"}, 422, []string{"/no/such/dir", "does not exist"}},
		{"working dir is a file", map[string]any{"command": "true", "workingDir": file}, 422, []string{file, "not a directory"}},
		{"bad env name", map[string]any{"command": "true", "env": map[string]string{"A=B": "x"}}, 400, []string{"A=B"}},
		{"negative timeout", map[string]any{"command": "true", "timeout": -1}, 400, []string{"timeout"}},
		{"port out of range", map[string]any{"command": "sleep 5", "waitForPorts": []int{70000}}, 400, []string{"70000"}},
		{"port zero", map[string]any{"command": "sleep 5", "waitForPorts": []int{0}}, 400, []string{"port 0"}},
		{"negative port", map[string]any{"command": "sleep 5", "waitForPorts": []int{-1}}, 400, []string{"port -1"}},
	} {
		msg := d.wantError(http.MethodPost, "/process", c.body, c.status)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not mention %q", c.name, msg, w)
			}
		}
	}
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	for _, p := range list {
		t.Errorf("a refused request left a process: %+v", p)
	}
}

func TestProcessNameReuse(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	first := d.exec(map[string]any{"command": "sleep 100", "name": "web"})
	msg := d.wantError(http.MethodPost, "/process", map[string]any{"command": "sleep 100", "name": "web"}, http.StatusBadRequest)
	if !strings.Contains(msg, "web") {
		t.Errorf("error %q does not name the process", msg)
	}
	// Concurrent starts with one name: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := d.do(http.MethodPost, "/process", map[string]any{"command": "sleep 100", "name": "race"})
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 1 || codes[400] != 7 {
		t.Errorf("8 concurrent starts named race: statuses %v, want one 200 and seven 400", codes)
	}

	var stopped proc
	d.doJSON(http.MethodDelete, "/process/web", nil, http.StatusOK, &stopped)
	second := d.exec(map[string]any{"command": "sleep 100", "name": "web"})
	if second.PID == first.PID {
		t.Fatalf("reused name got the old pid %s", second.PID)
	}
	if got := d.get("web"); got.PID != second.PID || got.Status != "running" {
		t.Errorf("GET /process/web = pid %s %s, want the newest %s running", got.PID, got.Status, second.PID)
	}
	if got := d.get(first.PID); got.Status != "stopped" || got.Name != "web" {
		t.Errorf("old record by pid: %s %s, want stopped web", got.Status, got.Name)
	}
}

func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	msg := d.wantError(http.MethodPost, "/process", map[string]any{"command": "sleep 100", "name": "slow", "waitForCompletion": true, "timeout": 1}, http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "timed out") {
		t.Errorf("error %q does not say it timed out", msg)
	}
	p := d.get("slow")
	pid, _ := strconv.Atoi(p.PID)
	if p.Status != "running" || !pidLive(pid) {
		t.Errorf("after the wait timed out: status %q, live %v; want it still running", p.Status, pidLive(pid))
	}
}

func TestKeepAliveTimeoutKills(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 100 & wait", "keepAlive": true, "timeout": 1})
	if !p.KeepAlive || p.Status != "running" {
		t.Fatalf("keepAlive process: %+v", p)
	}
	end := d.waitEnded(p.PID)
	if end.Status != "killed" || end.ExitCode != -1 {
		t.Errorf("after its keepAlive timeout: status %q exit %d, want killed/-1", end.Status, end.ExitCode)
	}
	if !strings.Contains(end.StderrText(), "keepAlive timeout") {
		t.Errorf("stderr %q does not explain the kill", end.StderrText())
	}
	pgid, _ := strconv.Atoi(p.PID)
	testsupport.Eventually(t, func() (bool, string) {
		left := liveInGroups(map[int]bool{pgid: true})
		return len(left) == 0, fmt.Sprintf("group members alive: %v", left)
	})
	// timeout 0: no lifetime limit. A sentinel started after it with a
	// lifetime of 1 s ends first: by then a limit would have ended p too.
	p = d.exec(map[string]any{"command": "sleep 100", "keepAlive": true, "timeout": 0})
	sentinel := d.exec(map[string]any{"command": "sleep 100", "keepAlive": true, "timeout": 1})
	if end := d.waitEnded(sentinel.PID); end.Status != "killed" {
		t.Fatalf("sentinel with a 1 s lifetime ended %s, want killed", end.Status)
	}
	if got := d.get(p.PID); got.Status != "running" {
		t.Errorf("keepAlive with timeout 0 ended: %s", got.Status)
	}
}

func TestEnvAndWorkingDir(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{env: []string{"FROM_DAEMON=inherited", "OVERRIDE=daemon"}})
	dir := t.TempDir()
	p := d.exec(map[string]any{
		"command":           `printf '%s|%s|%s|%s|%s\n' "$FOO" "$(pwd -P)" "${EMPTY-unset}" "$FROM_DAEMON" "$OVERRIDE"`,
		"env":               map[string]string{"FOO": "bar baz", "EMPTY": "", "OVERRIDE": "request"},
		"workingDir":        dir,
		"waitForCompletion": true,
	})
	real, _ := filepath.EvalSymlinks(dir)
	if want := "bar baz|" + real + "||inherited|request\n"; p.StdoutText() != want {
		t.Errorf("output %q, want %q", p.StdoutText(), want)
	}
	if p.WorkingDir != dir {
		t.Errorf("workingDir %q, want %q", p.WorkingDir, dir)
	}
	// The record echoes the request; the command runs in it resolved
	// against the daemon's working directory.
	// A relative working dir is under the daemon's.
	if err := os.Mkdir(filepath.Join(d.workDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	p = d.exec(map[string]any{"command": "pwd", "workingDir": "sub", "waitForCompletion": true})
	if want := filepath.Join(d.workDir, "sub"); p.StdoutText() != want+"\n" || p.WorkingDir != "sub" {
		t.Errorf("relative workingDir: pwd %q, record %q; want %q run in %q", p.StdoutText(), p.WorkingDir, "sub", want)
	}
}

func TestShellFromEnv(t *testing.T) {
	t.Parallel()
	shell := filepath.Join(t.TempDir(), "fake-shell")
	script := "#!/bin/sh\necho \"fake-shell:$*\"\nexec /bin/sh \"$@\"\n"
	if err := os.WriteFile(shell, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, daemonOptions{env: []string{"SHELL=" + shell}})
	p := d.exec(map[string]any{"command": "echo hi", "waitForCompletion": true})
	if p.StdoutText() != "fake-shell:-c echo hi\nhi\n" {
		t.Errorf("with SHELL=%s the output is %q; the command did not run through $SHELL -c", shell, p.StdoutText())
	}

	// A $SHELL that does not exist falls back to /bin/sh.
	d2 := startDaemon(t, daemonOptions{env: []string{"SHELL=/no/such/shell"}})
	p = d2.exec(map[string]any{"command": "readlink -f /proc/$$/exe", "waitForCompletion": true})
	sh, _ := filepath.EvalSymlinks("/bin/sh")
	if p.Status != "completed" || strings.TrimSpace(p.StdoutText()) != sh {
		t.Errorf("with a missing $SHELL: %s, shell %q, want /bin/sh (%s)", p.Status, p.StdoutText(), sh)
	}
}

// frame is one ndjson frame of POST /process with Accept: text/event-stream.
type frame struct {
	Type string `json:"type"`
	Data string `json:"data"`
}

// TestExecStream: output frames as the output comes, keepalives while the
// process is silent, then the result. The process waits on stdin between
// writes, and the test writes only once it has the previous frame (and,
// before the last, a keepalive), so the order does not depend on timing.
func TestExecStream(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--keepalive", "200ms"}})
	cmd := "echo o1; read a; echo e1 >&2; read a; echo o2; read a; echo e2 >&2; exit 4"
	resp := d.openStream(t.Context(), http.MethodPost, "/process", map[string]any{"command": cmd, "name": "streamed", "stdin": true}, "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q, want application/x-ndjson", ct)
	}
	lr := readLines(resp.Body)
	var data []frame
	var result *frame
	keepalivesBetween := 0 // between o2 and e2, where the process is idle until a keepalive came
	sent := 0              // lines written to the process's stdin
	release := func() {
		d.doJSON(http.MethodPost, "/process/streamed/stdin", "go\n", http.StatusOK, nil)
		sent++
	}
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		if result != nil {
			t.Fatalf("frame after the result: %q", line)
		}
		var f frame
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("frame %q is not JSON: %v", line, err)
		}
		switch f.Type {
		case "keepalive":
			if line != `{"type":"keepalive"}` {
				t.Errorf("keepalive frame %q", line)
			}
			if len(data) == 3 {
				keepalivesBetween++
				if sent == 2 {
					release() // the silence had its keepalive: on to e2
				}
			}
		case "stdout", "stderr":
			// Frames carry the output as read: consecutive ones of a
			// stream are one run of its bytes.
			if n := len(data); n > 0 && data[n-1].Type == f.Type {
				data[n-1].Data += f.Data
			} else {
				data = append(data, f)
			}
			if n := len(data); n < 3 && n == sent+1 && strings.HasSuffix(data[n-1].Data, "\n") {
				release() // o1 or e1 is in: on to the next line
			}
		case "result":
			result = &f
		default:
			t.Fatalf("unexpected frame %q", line)
		}
	}
	if lr.err != nil {
		t.Fatalf("reading the stream: %v", lr.err)
	}
	want := []frame{{"stdout", "o1\n"}, {"stderr", "e1\n"}, {"stdout", "o2\n"}, {"stderr", "e2\n"}}
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Errorf("output frames %v, want %v", data, want)
	}
	if keepalivesBetween == 0 {
		t.Errorf("no keepalive frame during the silence before e2 with --keepalive 200ms")
	}
	if result == nil {
		t.Fatal("the stream ended without a result frame")
	}
	wantFields(t, []byte(result.Data), false)
	var p proc
	if err := json.Unmarshal([]byte(result.Data), &p); err != nil {
		t.Fatalf("result data is not a ProcessResponse: %v", err)
	}
	if p.Status != "failed" || p.ExitCode != 4 || p.CompletedAt == "" || p.Command != cmd {
		t.Errorf("result %+v", p)
	}
	if p.StdoutText() != "o1\no2\n" || p.StderrText() != "e1\ne2\n" || p.LogsText() != "o1\ne1\no2\ne2\n" {
		t.Errorf("result output %q / %q / %q", p.StdoutText(), p.StderrText(), p.LogsText())
	}
}

func TestExecStreamErrorsArePlainHTTP(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct {
		body   any
		status int
	}{
		{`{}`, 400},
		{`{"command":`, 400},
		{map[string]any{"command": "true", "workingDir": "/no/such/dir"}, 422},
	} {
		resp, body := d.do(http.MethodPost, "/process", c.body, "Accept", "text/event-stream")
		if resp.StatusCode != c.status {
			t.Errorf("%v: status %d, want %d", c.body, resp.StatusCode, c.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%v: Content-Type %q, want application/json", c.body, ct)
		}
		var e struct{ Error string }
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%v: body %q is not a JSON error", c.body, body)
		}
	}
}

func TestExecStreamTimeout(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	resp := d.openStream(t.Context(), http.MethodPost, "/process", map[string]any{"command": "echo hi; sleep 100", "name": "st", "timeout": 1}, "Accept", "text/event-stream")
	lr := readLines(resp.Body)
	var frames []frame
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		var f frame
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("frame %q: %v", line, err)
		}
		if f.Type != "keepalive" {
			frames = append(frames, f)
		}
	}
	// stdout (hi, unless the 1 s ran out before the shell printed it on a
	// loaded machine), an error frame saying it timed out, then (the SDK
	// ignores error frames) the result: the record as it stands, still
	// running, with at least the output the frames carried.
	var streamed strings.Builder
	for len(frames) > 0 && frames[0].Type == "stdout" {
		streamed.WriteString(frames[0].Data)
		frames = frames[1:]
	}
	if out := streamed.String(); out != "" && out != "hi\n" {
		t.Errorf("stdout frames %q, want hi", out)
	}
	if len(frames) != 2 || frames[0].Type != "error" || !strings.Contains(frames[0].Data, "timed out") || frames[1].Type != "result" {
		t.Fatalf("frames after stdout %v, want an error saying it timed out, then the result", frames)
	}
	var r proc
	if err := json.Unmarshal([]byte(frames[1].Data), &r); err != nil || r.Status != "running" || r.CompletedAt != "" || !strings.HasPrefix(r.StdoutText(), streamed.String()) {
		t.Errorf("result after the timeout: %+v (%v), want the running record with its output so far (%q)", r, err, streamed.String())
	}
	if p := d.get("st"); p.Status != "running" {
		t.Errorf("after the stream timed out the process is %s, want running", p.Status)
	}
}

func TestListAndGet(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	running := d.exec(map[string]any{"command": "sleep 100", "name": "runner"})
	ended := d.exec(map[string]any{"command": "echo done", "name": "ender", "waitForCompletion": true})

	resp, body := d.do(http.MethodGet, "/process", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /process: %d", resp.StatusCode)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		t.Fatalf("GET /process: %s: %v", body, err)
	}
	byName := map[string]proc{}
	for _, raw := range raws {
		wantFields(t, raw, false)
		var p proc
		_ = json.Unmarshal(raw, &p)
		byName[p.Name] = p
	}
	if len(raws) != 2 || byName["runner"].Status != "running" || byName["runner"].PID != running.PID ||
		byName["ender"].Status != "completed" || byName["ender"].PID != ended.PID || byName["ender"].StdoutText() != "done\n" {
		t.Errorf("GET /process: %s", body)
	}

	for _, id := range []string{running.PID, "runner"} {
		if p := d.get(id); p.PID != running.PID || p.Name != "runner" || p.Status != "running" {
			t.Errorf("GET /process/%s: %+v", id, p)
		}
	}
	for _, id := range []string{ended.PID, "ender"} {
		if p := d.get(id); p.PID != ended.PID || p.Status != "completed" || p.StdoutText() != "done\n" {
			t.Errorf("GET /process/%s: %+v", id, p)
		}
	}

	// Each route words it as the existing daemon does (see
	// api_process_wire_test.go for every route).
	for _, r := range []struct{ method, path, want string }{
		{http.MethodGet, "/process/999999999", "process not found"},
		{http.MethodGet, "/process/nope", "process not found"},
		{http.MethodGet, "/process/..%2F..%2Fetc%2Fpasswd/logs", "process with PID ../../etc/passwd not found"},
	} {
		resp, body := d.do(r.method, r.path, nil)
		if want := `{"error":` + strconv.Quote(r.want) + `}`; resp.StatusCode != http.StatusNotFound || strings.TrimSpace(string(body)) != want {
			t.Errorf("%s %s: %d %s, want 404 %s", r.method, r.path, resp.StatusCode, body, want)
		}
	}
}

// TestLogsInterleaved: /logs keeps the order of the output across both
// streams. The process waits on stdin between writes, and the test writes
// once the daemon has the previous one, so the order is not up to timing.
func TestLogsInterleaved(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "echo a; read x; echo b >&2; read x; echo c; read x; printf 'd-no-newline' >&2", "stdin": true})
	for _, seen := range []string{"a\n", "a\nb\n", "a\nb\nc\n"} {
		d.waitOutput(p.PID, seen)
		d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "go\n", http.StatusOK, nil)
	}
	p = d.waitEnded(p.PID)
	resp, body := d.do(http.MethodGet, "/process/"+p.PID+"/logs", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	if len(raw) != 3 {
		t.Errorf("logs body has fields %v, want logs, stdout, stderr", body)
	}
	l := d.logs(p.PID)
	if testsupport.Deref(l.Logs) != "a\nb\nc\nd-no-newline" || testsupport.Deref(l.Stdout) != "a\nc\n" || testsupport.Deref(l.Stderr) != "b\nd-no-newline" {
		t.Errorf("logs %q stdout %q stderr %q", testsupport.Deref(l.Logs), testsupport.Deref(l.Stdout), testsupport.Deref(l.Stderr))
	}
	if p.LogsText() != testsupport.Deref(l.Logs) {
		t.Errorf("record logs %q differ from /logs %q", p.LogsText(), testsupport.Deref(l.Logs))
	}
}

// TestLogStreamReplayThenLive: the stream replays what was written before
// it opened, then follows live output, each line once, with keepalives
// while idle, and ends when the process does.
func TestLogStreamReplayThenLive(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--keepalive", "200ms"}})
	// The process waits on stdin between writes, and the test writes once
	// the previous one is in, so the order is not up to timing.
	p := d.exec(map[string]any{
		"command": `echo first; read g; echo err1 >&2; read a; echo "got $a"; read b; echo "got $b" >&2; read g; printf tail`,
		"stdin":   true,
	})
	d.waitOutput(p.PID, "first")
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "go\n", http.StatusOK, nil)
	d.waitOutput(p.PID, "err1")

	resp := d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	lr := readLines(resp.Body)
	keepalives := 0
	var got []string
	expect := func(want string) {
		t.Helper()
		line, ok := lr.nextData(t, &keepalives)
		if !ok || line != want {
			t.Fatalf("stream line %q (open %v), want %q; so far %q", line, ok, want, got)
		}
		got = append(got, line)
	}
	// The process waits on stdin, silent until the test writes: a
	// keepalive must come meanwhile, and nothing else.
	keepalive := func() {
		t.Helper()
		line, ok := lr.next(t)
		if !ok || line != "[keepalive]" {
			t.Fatalf("stream line %q (open %v) while the process is silent, want a keepalive; so far %q", line, ok, got)
		}
		keepalives++
	}
	// The process is blocked on stdin: these can only be the replay.
	expect("stdout:first")
	expect("stderr:err1")
	keepalive()
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "x\n", http.StatusOK, nil)
	expect("stdout:got x")
	keepalive()
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "y\n", http.StatusOK, nil)
	expect("stderr:got y")
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "go\n", http.StatusOK, nil)
	expect("stdout:tail")
	if line, ok := lr.nextData(t, &keepalives); ok {
		t.Fatalf("line %q after the end; want the stream to end with the process", line)
	}
	if keepalives < 2 {
		t.Errorf("%d keepalive lines during two silences with --keepalive 200ms", keepalives)
	}
	if end := d.get(p.PID); end.Status != "completed" {
		t.Errorf("process %s after its stream ended", end.Status)
	}

	// Of an ended process: everything at once, no keepalive, then the end.
	resp = d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	lr = readLines(resp.Body)
	var again []string
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		again = append(again, line)
	}
	if fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("stream of the ended process %q, want %q", again, got)
	}
}

func TestLogStreamUnknownIs404JSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	resp, body := d.do(http.MethodGet, "/process/nope/logs/stream", nil)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
		strings.TrimSpace(string(body)) != `{"error":"process with Identifier nope not found"}` {
		t.Errorf("unknown process stream: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// seqCommand prints n numbered lines of 20 bytes ("%019d\n").
func seqCommand(n int) string { return fmt.Sprintf("seq -f '%%019.0f' 1 %d", n) }

// readSeqStream reads a /logs/stream of seqCommand output and checks every
// line is there, once, in order.
func readSeqStream(t *testing.T, r *bufio.Reader, n int) {
	t.Helper()
	want := 1
	// The expected line, incremented in place: fmt per line is too slow
	// under the race detector.
	exp := []byte("stdout:0000000000000000001\n")
	incr := func() {
		for i := len(exp) - 2; exp[i] != ':'; i-- {
			if exp[i] != '9' {
				exp[i]++
				return
			}
			exp[i] = '0'
		}
	}
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if string(line) == "[keepalive]\n" {
				continue
			}
			if !bytes.Equal(line, exp) {
				t.Fatalf("line %d is %q, want %q", want, testsupport.Truncate(line), exp)
			}
			want++
			incr()
		}
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("after %d lines: %v", want-1, err)
			}
			break
		}
	}
	if want-1 != n {
		t.Fatalf("stream had %d lines, want %d", want-1, n)
	}
}

func TestLogStream20MB(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	const n = 1_000_000 // 20 MB
	p := d.exec(map[string]any{"command": seqCommand(n)})
	start := time.Now()
	resp := d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	readSeqStream(t, bufio.NewReaderSize(resp.Body, 64<<10), n)
	t.Logf("stream read in %s", time.Since(start))
	if end := d.waitEnded(p.PID); end.Status != "completed" {
		t.Errorf("generator ended %s", end.Status)
	}
	// The record inline carries a bounded tail, saying output was left out.
	rec := d.get(p.PID)
	if !strings.HasPrefix(rec.StdoutText(), "[sandbox-api: earlier output omitted") || !strings.HasSuffix(rec.StdoutText(), fmt.Sprintf("%019d\n", n)) || len(rec.StdoutText()) > 65<<10 {
		t.Errorf("GET record stdout: %d bytes starting %q", len(rec.StdoutText()), rec.StdoutText()[:min(60, len(rec.StdoutText()))])
	}
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	if len(list) != 1 || !strings.HasPrefix(list[0].StdoutText(), "[sandbox-api: earlier output omitted") || len(list[0].StdoutText()) > 5<<10 {
		t.Errorf("list record stdout: %d bytes", len(list[0].StdoutText()))
	}
	// /logs has it all too. Checked by shape: decoding 40 MB of JSON is slow
	// under the race detector. Each 20-byte line is 21 bytes escaped.
	resp2, body := d.do(http.MethodGet, "/process/"+p.PID+"/logs", nil)
	// Members in the existing daemon's order: stdout, stderr, logs.
	head, tail := `{"stdout":"0000000000000000001\n`, fmt.Sprintf(`%019d\n"}`+"\n", n)
	wantLen := len(`{"stdout":"`) + 21*n + len(`","stderr":"","logs":"`) + 21*n + len(`"}`) + 1
	if resp2.StatusCode != http.StatusOK || len(body) != wantLen || !bytes.HasPrefix(body, []byte(head)) || !bytes.HasSuffix(body, []byte(tail)) {
		t.Errorf("/logs: status %d, %d bytes (want %d), starting %q, ending %q", resp2.StatusCode, len(body), wantLen, body[:min(len(body), 40)], body[max(0, len(body)-40):])
	}
}

// TestStalledReaderDoesNotBlock: a log stream client that never reads
// slows neither the process nor another reader. The stall lasts as long as
// the process runs: the daemon drops a client stalled for 30 s.
func TestStalledReaderDoesNotBlock(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	const n = 500_000 // 10 MB: more than twice what socket buffers hold (4 MiB)
	// The output starts once the stalled client's stream is open.
	p := d.exec(map[string]any{"command": "read g; " + seqCommand(n), "stdin": true})

	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	stalled, err := dialer.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "GET /process/%s/logs/stream HTTP/1.1\r\nHost: x\r\n\r\n", p.PID)
	// The headers say the stream is open (the body is left unread).
	_ = stalled.SetReadDeadline(time.Now().Add(hangGuard))
	sresp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil {
		t.Fatalf("stalled client: %v", err)
	}
	defer sresp.Body.Close()
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", "go\n", http.StatusOK, nil)

	// The process runs to its end while the stalled client reads nothing.
	if end := d.waitEnded(p.PID); end.Status != "completed" {
		t.Fatalf("generator ended %s", end.Status)
	}
	// The stalled client, once it reads, gets everything; so does another
	// reader.
	readSeqStream(t, bufio.NewReaderSize(sresp.Body, 64<<10), n)
	resp := d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	readSeqStream(t, bufio.NewReaderSize(resp.Body, 64<<10), n)
}

func TestStop(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 1000 & echo $!; sleep 1000 & echo $!; wait"})
	testsupport.Eventually(t, func() (bool, string) {
		return strings.Count(testsupport.Deref(d.logs(p.PID).Stdout), "\n") == 2, "children pids not printed"
	})
	var kids []int
	for _, f := range strings.Fields(testsupport.Deref(d.logs(p.PID).Stdout)) {
		pid, _ := strconv.Atoi(f)
		kids = append(kids, pid)
		if !pidLive(pid) {
			t.Fatalf("child %d not running before the stop", pid)
		}
	}
	var stopped proc
	d.doJSON(http.MethodDelete, "/process/"+p.PID, nil, http.StatusOK, &stopped)
	if stopped.Status != "stopped" || stopped.ExitCode != -1 || stopped.CompletedAt == "" || stopped.Message == "" {
		t.Errorf("DELETE answer %+v, want stopped, exit -1, with a message", stopped)
	}
	testsupport.Eventually(t, func() (bool, string) {
		for _, k := range kids {
			if _, _, _, ok := procStat(k); ok {
				return false, fmt.Sprintf("child %d of the stopped process still exists (alive or unreaped)", k)
			}
		}
		return true, ""
	})
	// Stopping it again says so and changes nothing.
	var again proc
	d.doJSON(http.MethodDelete, "/process/"+p.PID, nil, http.StatusOK, &again)
	if again.Status != "stopped" || !strings.Contains(again.Message, "already") {
		t.Errorf("second DELETE: %+v", again)
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "trap '' TERM; echo ready; while :; do sleep 0.2; done"})
	d.waitOutput(p.PID, "ready")
	start := time.Now()
	var stopped proc
	d.doJSON(http.MethodDelete, "/process/"+p.PID, nil, http.StatusOK, &stopped)
	took := time.Since(start)
	if stopped.Status != "stopped" {
		t.Errorf("status %q, want stopped", stopped.Status)
	}
	// The daemon waits its 5 s stop grace before SIGKILL.
	if took < 4*time.Second {
		t.Errorf("a SIGTERM-ignoring process ended after %s, before the stop grace", took)
	}
	pgid, _ := strconv.Atoi(p.PID)
	testsupport.Eventually(t, func() (bool, string) {
		left := liveInGroups(map[int]bool{pgid: true})
		return len(left) == 0, fmt.Sprintf("group members alive: %v", left)
	})
}

func TestKill(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 1000 & wait"})
	var killed proc
	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/kill", nil, http.StatusOK, &killed)
	if killed.Status != "killed" || killed.ExitCode != -1 || killed.CompletedAt == "" {
		t.Errorf("kill answer %+v", killed)
	}
	pgid, _ := strconv.Atoi(p.PID)
	testsupport.Eventually(t, func() (bool, string) {
		left := liveInGroups(map[int]bool{pgid: true})
		return len(left) == 0, fmt.Sprintf("group members alive: %v", left)
	})
}

func TestKillWithSignal(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "trap 'echo trapped; exit 3' INT; echo ready; sleep 100"})
	d.waitOutput(p.PID, "ready")

	// An unknown signal is refused and changes nothing.
	for _, sig := range []string{"SIGFOO", "99", "0"} {
		msg := d.wantError(http.MethodDelete, "/process/"+p.PID+"/kill", map[string]string{"signal": sig}, http.StatusBadRequest)
		if !strings.Contains(msg, sig) {
			t.Errorf("error %q does not name the signal %q", msg, sig)
		}
	}
	d.wantError(http.MethodDelete, "/process/"+p.PID+"/kill", `{"signal":`, http.StatusBadRequest)
	if got := d.get(p.PID); got.Status != "running" {
		t.Fatalf("after refused kills the process is %s", got.Status)
	}

	var killed proc
	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/kill", map[string]string{"signal": "SIGINT"}, http.StatusOK, &killed)
	// Documented: /kill reports killed with exit code -1, whatever the
	// process's own exit status (3 here).
	if killed.Status != "killed" || killed.ExitCode != -1 || killed.CompletedAt == "" {
		t.Errorf("after SIGINT: status %q exit %d completedAt %q, want killed/-1 and a time", killed.Status, killed.ExitCode, killed.CompletedAt)
	}
	if out := testsupport.Deref(d.logs(p.PID).Stdout); out != "ready\ntrapped\n" {
		t.Errorf("output %q: the INT trap did not run (was another signal sent?)", out)
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	noStdin := d.exec(map[string]any{"command": "sleep 100"})
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		d.wantError(method, "/process/"+noStdin.PID+"/stdin", "x", http.StatusConflict)
	}

	p := d.exec(map[string]any{"command": "cat", "stdin": true})
	if !p.Stdin {
		t.Errorf("record stdin false for a stdin process")
	}
	var want strings.Builder
	for i := 0; i < 50; i++ {
		chunk := fmt.Sprintf("line-%02d\n", i)
		var ok struct{ Message string }
		d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", chunk, http.StatusOK, &ok)
		if ok.Message == "" {
			t.Errorf("write answer without a message")
		}
		want.WriteString(chunk)
	}
	// Exactly the limit is accepted; one byte more is not.
	limit := strings.Repeat("z", 8<<20-1) + "\n"
	d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", limit, http.StatusOK, nil)
	want.WriteString(limit)
	d.wantError(http.MethodPost, "/process/"+p.PID+"/stdin", limit+"!", http.StatusRequestEntityTooLarge)

	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/stdin", nil, http.StatusOK, nil)
	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/stdin", nil, http.StatusOK, nil) // idempotent
	d.wantError(http.MethodPost, "/process/"+p.PID+"/stdin", "late\n", http.StatusConflict)
	end := d.waitEnded(p.PID)
	if end.Status != "completed" {
		t.Errorf("cat ended %s after stdin was closed", end.Status)
	}
	if got := testsupport.Deref(d.logs(p.PID).Stdout); got != want.String() {
		t.Errorf("cat echoed %d bytes, want %d (writes lost or out of order)", len(got), want.Len())
	}
	// After the end: writes are refused, closing is still fine.
	d.wantError(http.MethodPost, "/process/"+p.PID+"/stdin", "x", http.StatusConflict)
	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/stdin", nil, http.StatusOK, nil)
}

// TestStdinConcurrentWritesStayWhole: bodies larger than the pipe buffer
// written at once each land whole.
func TestStdinConcurrentWritesStayWhole(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "cat", "stdin": true})
	const writers = 16
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Repeat(string(rune('a'+i)), 200<<10) + "\n"
			d.doJSON(http.MethodPost, "/process/"+p.PID+"/stdin", body, http.StatusOK, nil)
		}()
	}
	wg.Wait()
	d.doJSON(http.MethodDelete, "/process/"+p.PID+"/stdin", nil, http.StatusOK, nil)
	d.waitEnded(p.PID)
	lines := strings.Split(strings.TrimSuffix(testsupport.Deref(d.logs(p.PID).Stdout), "\n"), "\n")
	if len(lines) != writers {
		t.Fatalf("%d lines, want %d", len(lines), writers)
	}
	seen := map[byte]bool{}
	for _, l := range lines {
		if len(l) != 200<<10 || strings.Trim(l, l[:1]) != "" {
			t.Fatalf("a body was split or mixed with another: line of %d bytes starting %q", len(l), l[:min(len(l), 10)])
		}
		seen[l[0]] = true
	}
	if len(seen) != writers {
		t.Errorf("%d distinct bodies, want %d", len(seen), writers)
	}
}

// pipeQueued is the number of bytes waiting in the pipe that is fd of pid
// (read through a second read end, which takes nothing out), -1 when the
// descriptor is gone.
func pipeQueued(pid, fd int) int {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return -1
	}
	defer f.Close()
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ) // FIONREAD
	if err != nil {
		return -1
	}
	return n
}

// TestStdinNotRead: a write to a process that does not read its stdin
// fails with 503 after the write timeout and blocks nothing else.
func TestStdinNotRead(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 100", "stdin": true})
	type result struct {
		status int
		body   []byte
		took   time.Duration
	}
	results := make(chan result, 2)
	for i := 0; i < 2; i++ {
		go func() {
			start := time.Now()
			resp, err := d.client.Post(d.url+"/process/"+p.PID+"/stdin", "application/octet-stream", strings.NewReader(strings.Repeat("x", 1<<20)))
			if err != nil {
				results <- result{status: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
			results <- result{resp.StatusCode, []byte(b.String()), time.Since(start)}
		}()
	}
	// A write is under way once the process's stdin pipe holds data: 1 MiB
	// does not fit, so it blocks there.
	pid, _ := strconv.Atoi(p.PID)
	testsupport.Until(t, "a stdin write to fill the pipe", func() bool { return pipeQueued(pid, 0) > 0 })
	if resp, _ := d.do(http.MethodGet, "/health", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/health during a blocked stdin write: %d", resp.StatusCode)
	}
	if got := d.get(p.PID); got.Status != "running" {
		t.Errorf("GET during a blocked stdin write: %s", got.Status)
	}
	// By order, not by a clock: /health and GET answered while both writes
	// still waited. Queued behind a write, they would have come after its
	// 5 s write timeout had ended it.
	select {
	case r := <-results:
		t.Fatalf("a stdin write to a process that never reads returned before /health and GET answered: %d %s", r.status, r.body)
	default:
	}
	for i := 0; i < 2; i++ {
		r := testsupport.Receive(t, results, "a blocked stdin write to give up")
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("write: status %d, want 503: %s", r.status, r.body)
		}
		if !strings.Contains(string(r.body), "not reading") {
			t.Errorf("write: error %s does not say the process is not reading", r.body)
		}
		if r.took < 4*time.Second {
			t.Errorf("write gave up after %s, before the 5 s write timeout", r.took)
		}
	}
}

func TestRestartOnFailure(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "echo run; exit 1", "restartOnFailure": true, "maxRestarts": 2, "waitForCompletion": true})
	if p.Status != "failed" || p.ExitCode != 1 || p.RestartCount != 2 || !p.RestartOnFailure || p.MaxRestarts != 2 {
		t.Errorf("after 2 restarts: %+v", p)
	}
	if strings.Count(p.StdoutText(), "run\n") != 3 || !strings.Contains(p.StdoutText(), "Attempting restart 1/2") || !strings.Contains(p.StdoutText(), "Attempting restart 2/2") {
		t.Errorf("output %q, want 3 runs and 2 restart notices", p.StdoutText())
	}
	if got := d.get(p.PID); got.PID != p.PID {
		t.Errorf("pid changed across restarts: %s → %s", p.PID, got.PID)
	}

	// A success is not restarted.
	ok := d.exec(map[string]any{"command": "echo once", "restartOnFailure": true, "maxRestarts": 5, "waitForCompletion": true})
	if ok.Status != "completed" || ok.RestartCount != 0 || ok.StdoutText() != "once\n" {
		t.Errorf("successful process with restartOnFailure: %+v", ok)
	}

	// Unlimited: restarts until stopped.
	u := d.exec(map[string]any{"command": "echo run; exit 1", "restartOnFailure": true, "maxRestarts": -1})
	testsupport.Eventually(t, func() (bool, string) {
		g := d.get(u.PID)
		return g.RestartCount >= 3 && g.Status == "running", fmt.Sprintf("restartCount %d status %s", g.RestartCount, g.Status)
	})
	var stopped proc
	d.doJSON(http.MethodDelete, "/process/"+u.PID, nil, http.StatusOK, &stopped)
	if stopped.Status != "stopped" {
		t.Errorf("stopped unlimited restarter: %s", stopped.Status)
	}
	count := d.get(u.PID).RestartCount
	// A sentinel restarter started after the stop: once it has restarted
	// twice, two restart delays have passed since the stop, and a restart
	// of u still pending would have happened.
	sentinel := d.exec(map[string]any{"command": "exit 1", "restartOnFailure": true, "maxRestarts": 2})
	if end := d.waitEnded(sentinel.PID); end.RestartCount != 2 {
		t.Fatalf("sentinel ended %s after %d restarts, want 2", end.Status, end.RestartCount)
	}
	if after := d.get(u.PID); after.RestartCount != count || after.Status != "stopped" {
		t.Errorf("restarted after the stop: count %d → %d, %s", count, after.RestartCount, after.Status)
	}
	if !strings.Contains(testsupport.Deref(d.logs(u.PID).Stdout), "Attempting restart 3/unlimited") {
		t.Errorf("no unlimited restart notice")
	}
}

func TestWaitForPorts(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct{ network, host string }{{"tcp4", "127.0.0.1"}, {"tcp6", "::1"}} {
		port := testsupport.FreePort(t, c.network, c.host)
		addr := net.JoinHostPort(c.host, strconv.Itoa(port))
		p := d.exec(map[string]any{
			"command":      fmt.Sprintf("exec %s listen %s 300ms", testsupport.ShellQuote(helperBin), testsupport.ShellQuote(addr)),
			"waitForPorts": []int{port},
			"timeout":      int(hangGuard / time.Second),
		})
		if p.Status != "running" {
			t.Errorf("%s: status %s", addr, p.Status)
		}
		// The answer came once the port listened, not before.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("%s: waitForPorts returned but the port does not accept: %v", addr, err)
		} else {
			conn.Close()
		}
		if out := testsupport.Deref(d.logs(p.PID).Stdout); !strings.Contains(out, "listening") {
			t.Errorf("%s: answer before the helper listened (output %q)", addr, out)
		}
	}

	never := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	start := time.Now()
	msg := d.wantError(http.MethodPost, "/process", map[string]any{"command": "sleep 100", "name": "never", "waitForPorts": []int{never}, "timeout": 1}, http.StatusUnprocessableEntity)
	if !strings.Contains(msg, strconv.Itoa(never)) || !strings.Contains(msg, "not listening") {
		t.Errorf("error %q does not name the port that did not open", msg)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("gave up after %s, before the 1 s timeout", took)
	}
	if p := d.get("never"); p.Status != "running" {
		t.Errorf("the process was not left running: %s", p.Status)
	}

	msg = d.wantError(http.MethodPost, "/process", map[string]any{"command": "exit 0", "waitForPorts": []int{never}, "timeout": 30}, http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "exited") {
		t.Errorf("process that exits before its port opens: error %q", msg)
	}
}

func TestMaxEndedProcesses(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--max-ended-processes", "3"}})
	running := d.exec(map[string]any{"command": "echo running; sleep 100"})
	var ended []proc
	for i := 0; i < 6; i++ {
		ended = append(ended, d.exec(map[string]any{"command": fmt.Sprintf("echo run-%d", i), "waitForCompletion": true}))
	}
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	var names []string
	for _, p := range list {
		names = append(names, p.StdoutText())
	}
	if len(list) != 4 || list[0].PID != running.PID || list[1].PID != ended[3].PID || list[3].PID != ended[5].PID {
		t.Errorf("with --max-ended-processes 3: list %q, want the running one and the 3 newest ended", names)
	}
	d.wantError(http.MethodGet, "/process/"+ended[0].PID, nil, http.StatusNotFound)
	d.wantError(http.MethodGet, "/process/"+ended[2].PID+"/logs", nil, http.StatusNotFound)
	if got := d.get(ended[3].PID).StdoutText(); got != "run-3\n" {
		t.Errorf("kept record output %q", got)
	}
	// The forgotten records' logs are gone from the disk too (beside the
	// logs: the records journal), once the end that forgot them has
	// tidied up, which it does after its answer.
	testsupport.Eventually(t, func() (bool, string) {
		entries, _ := os.ReadDir(d.logDir)
		var files []string
		for _, e := range entries {
			if e.Name() != "processes.jsonl" {
				files = append(files, e.Name())
			}
		}
		return len(files) == 4, fmt.Sprintf("log dir holds %v, want the 4 kept processes' logs", files)
	})
}

// TestManyRunningProcessesFewThreads: 100 running processes do not cost the
// daemon a thread each (a blocking wait per process would), and waiting
// for one of them still reports its end.
func TestManyRunningProcessesFewThreads(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	threads := func() int {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", d.pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(tasks)
	}
	before := threads()
	const n = 100
	for i := range n {
		resp, body := d.do(http.MethodPost, "/process", map[string]any{"name": fmt.Sprintf("s%d", i), "command": "exec sleep 100"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("start %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if grown := threads() - before; grown >= n/4 {
		t.Errorf("%d running processes added %d threads to the daemon", n, grown)
	}
	if resp, body := d.do(http.MethodDelete, "/process/s7/kill", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("kill: %d %s", resp.StatusCode, body)
	}
	resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": "echo done", "waitForCompletion": true})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"logs":"done\n"`) {
		t.Fatalf("exec among them: %d %s", resp.StatusCode, body)
	}
	testsupport.Eventually(t, func() (bool, string) {
		_, body := d.do(http.MethodGet, "/process/s7", nil)
		return strings.Contains(string(body), `"status":"killed"`), "s7: " + string(body)
	})
}
