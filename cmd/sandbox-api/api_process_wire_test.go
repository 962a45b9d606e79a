package main

// Black-box tests of the /process wire where clients of the existing Blaxel
// daemon depend on its exact answers (../shared/reference/OBSERVED.md): the
// bytes of streamed exec frames, message texts, and the record's fields.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// streamedExec runs body as a streamed exec and returns its output frames
// (keepalives left out) and the result frame's data.
func streamedExec(t *testing.T, d *daemon, body map[string]any) (frames []frame, result string) {
	t.Helper()
	resp := d.openStream(t.Context(), http.MethodPost, "/process", body, "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	lr := readLines(resp.Body)
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		var f frame
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("frame %.200q is not JSON: %v", line, err)
		}
		switch f.Type {
		case "stdout", "stderr":
			frames = append(frames, f)
		case "result":
			result = f.Data
		}
	}
	if lr.err != nil {
		t.Fatalf("reading the stream: %v", lr.err)
	}
	if result == "" {
		t.Fatal("no result frame")
	}
	return frames, result
}

// joined is what the SDK's onStdout / onStderr / onLog callbacks add up to.
func joined(frames []frame, types ...string) string {
	var b strings.Builder
	for _, f := range frames {
		for _, ty := range types {
			if f.Type == ty {
				b.WriteString(f.Data)
			}
		}
	}
	return b.String()
}

// TestExecStreamFramesAreByteExact: joining a stream's frames gives its
// output byte for byte, however the process wrote it.
func TestExecStreamFramesAreByteExact(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	var big strings.Builder
	for i := 1; i <= 300000; i++ {
		big.WriteString(strconv.Itoa(i))
		big.WriteByte('\n')
	}
	for _, tc := range []struct {
		name, command, stdout, stderr string
	}{
		{"lines", "echo o1; echo o2", "o1\no2\n", ""},
		{"partial lines and no final newline", `printf 'a\nbb\n'; sleep 0.2; printf ccc; printf tail`, "a\nbb\nccctail", ""},
		{"the recorded example", `printf 'a\nb'; sleep 0.1; echo c`, "a\nbc\n", ""},
		{"empty lines", `printf '\n\nx\n\n'; echo`, "\n\nx\n\n\n", ""},
		{"stderr too", `echo o; printf 'e1\n\n' >&2; sleep 0.1; printf partial >&2`, "o\n", "e1\n\npartial"},
		{"a character split across writes", `printf 'caf\303'; sleep 0.2; printf '\251\n'`, "café\n", ""},
		{"bytes that are not UTF-8", `printf 'a\377b\n'`, "a\ufffdb\n", ""},
		{"a few MB", "seq 1 300000", big.String(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, result := streamedExec(t, d, map[string]any{"command": tc.command, "waitForCompletion": true})
			if got := joined(frames, "stdout"); got != tc.stdout {
				t.Errorf("stdout frames join to %.300q, want %.300q", got, tc.stdout)
			}
			if got := joined(frames, "stderr"); got != tc.stderr {
				t.Errorf("stderr frames join to %q, want %q", got, tc.stderr)
			}
			for i, f := range frames {
				if f.Data == "" {
					t.Errorf("frame %d has no data", i)
				}
				if len(f.Data) > 32<<10+3 {
					t.Errorf("frame %d carries %d bytes, more than a log record", i, len(f.Data))
				}
				if strings.ContainsRune(f.Data, '\ufffd') && !strings.Contains(tc.stdout, "\ufffd") {
					t.Errorf("frame %d cuts a character: %q", i, f.Data)
				}
			}
			// The result's output is what GET /process/{id} gives: whole up
			// to 64 KiB, else a notice and the last 64 KiB.
			var p proc
			if err := json.Unmarshal([]byte(result), &p); err != nil {
				t.Fatalf("result: %v", err)
			}
			wantOut := tc.stdout
			if len(wantOut) > 64<<10 {
				wantOut = "[sandbox-api: earlier output omitted; GET /process/" + p.PID + "/logs returns all of it]\n" + wantOut[len(wantOut)-64<<10:]
			}
			if p.StdoutText() != wantOut || p.StderrText() != tc.stderr {
				t.Errorf("result: stdout %.100q (%d bytes), stderr %q", p.StdoutText(), len(p.StdoutText()), p.StderrText())
			}
		})
	}
}

// TestExecStreamFramesInOrder: frames come as the output does, across the
// two streams, a partial line at once. The process waits on stdin between
// writes, so the order does not depend on timing.
func TestExecStreamFramesInOrder(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	cmd := `printf o1; read a; printf 'e1\n' >&2; read b; printf '\n'; read c; printf 'o2\n'`
	resp := d.openStream(t.Context(), http.MethodPost, "/process", map[string]any{
		"name": "ordered", "command": cmd, "stdin": true, "waitForCompletion": true,
	}, "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lr := readLines(resp.Body)
	expect := func(want frame) {
		t.Helper()
		deadline := time.Now().Add(hangGuard) // keepalives must not extend the guard
		for {
			line, ok := lr.nextBefore(t, deadline)
			if !ok {
				t.Fatalf("stream ended, want frame %v", want)
			}
			var f frame
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("frame %q: %v", line, err)
			}
			if f.Type == "keepalive" {
				continue
			}
			if f != want {
				t.Fatalf("frame %v, want %v", f, want)
			}
			return
		}
	}
	expect(frame{"stdout", "o1"}) // no newline yet: it must not wait for one
	d.doJSON(http.MethodPost, "/process/ordered/stdin", "x\n", http.StatusOK, nil)
	expect(frame{"stderr", "e1\n"})
	d.doJSON(http.MethodPost, "/process/ordered/stdin", "y\n", http.StatusOK, nil)
	expect(frame{"stdout", "\n"}) // an empty line is a frame with its newline
	d.doJSON(http.MethodPost, "/process/ordered/stdin", "z\n", http.StatusOK, nil)
	expect(frame{"stdout", "o2\n"})
}

// TestProcessErrorTexts: the error answers clients match on, word for word.
func TestProcessErrorTexts(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct {
		name         string
		method, path string
		body         any
		status       int
		want         string
	}{
		{"bad JSON", "POST", "/process", `{nope`, 400,
			"invalid request body: invalid character 'n' looking for beginning of object key string"},
		{"missing command", "POST", "/process", map[string]any{"name": "x"}, 400,
			"invalid request body: Key: 'ProcessRequest.Command' Error:Field validation for 'Command' failed on the 'required' tag"},
		{"missing working dir", "POST", "/process", map[string]any{"command": "echo test", "workingDir": "/no/such/dir", "waitForCompletion": true}, 422,
			"failed to start process: could not execute command 'echo test' because folder '/no/such/dir' does not exist"},
		{"timeout", "POST", "/process", map[string]any{"command": "sleep 100", "timeout": 1, "waitForCompletion": true}, 422,
			"process timed out after 1 seconds"},
		{"null body", "POST", "/process", `null`, 400, "invalid request body: null; a JSON object is required"},
		{"empty body", "POST", "/process", ``, 400, "invalid request body: the body is empty; a JSON object is required"},
		{"trailing data", "POST", "/process", `{"command":"true"} 1`, 400, "invalid request body: unexpected data after the JSON value"},
		{"blank command", "POST", "/process", map[string]any{"command": "  "}, 400, "invalid request body: command is required"},
		{"negative timeout", "POST", "/process", map[string]any{"command": "true", "timeout": -1}, 400, "invalid request body: timeout must not be negative"},
		{"bad port", "POST", "/process", map[string]any{"command": "true", "waitForPorts": []int{0}}, 400, "invalid request body: port 0 is out of range 1-65535"},
		{"bad env", "POST", "/process", map[string]any{"command": "true", "env": map[string]string{"A=B": "1"}}, 400, `invalid request body: invalid environment variable name "A=B"`},
		{"get unknown", "GET", "/process/obs-none", nil, 404, "process not found"},
		{"logs of unknown", "GET", "/process/obs-none/logs", nil, 404, "process with PID obs-none not found"},
		{"log stream of unknown", "GET", "/process/obs-none/logs/stream", nil, 404, "process with Identifier obs-none not found"},
		{"stop unknown", "DELETE", "/process/obs-none", nil, 404, "process with Identifier obs-none not found"},
		{"kill unknown", "DELETE", "/process/obs-none/kill", nil, 404, "process with Identifier obs-none not found"},
		{"stdin of unknown", "POST", "/process/obs-none/stdin", "x", 404, "process with Identifier obs-none not found"},
		{"close stdin of unknown", "DELETE", "/process/obs-none/stdin", nil, 404, "process with Identifier obs-none not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := d.wantError(c.method, c.path, c.body, c.status); got != c.want {
				t.Errorf("error %q, want %q", got, c.want)
			}
		})
	}
	// The body of a kill is a body like any other.
	d.exec(map[string]any{"name": "sig", "command": "sleep 100"})
	if got, want := d.wantError("DELETE", "/process/sig/kill", map[string]any{"signal": "SIGNOPE"}, 400), `invalid request body: unknown signal: "SIGNOPE"`; got != want {
		t.Errorf("kill with an unknown signal: %q, want %q", got, want)
	}
	if got := d.wantError("DELETE", "/process/sig/kill", `{"signal":`, 400); !strings.HasPrefix(got, "invalid request body: ") {
		t.Errorf("kill with bad JSON: %q, want the invalid request body prefix", got)
	}
}

// TestStopAndKillMessages: stop and kill answer the record with the
// existing daemon's success messages.
func TestStopAndKillMessages(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct{ path, status, message string }{
		{"/process/to-stop", "stopped", "Process stopped successfully"},
		{"/process/to-kill/kill", "killed", "Process killed successfully"},
	} {
		name := strings.Split(c.path, "/")[2]
		d.exec(map[string]any{"name": name, "command": "echo up; sleep 100"})
		d.waitOutput(name, "up")
		var p proc
		d.doJSON(http.MethodDelete, c.path, nil, http.StatusOK, &p)
		if p.Message != c.message || p.Status != c.status || p.Name != name || p.StdoutText() != "up\n" {
			t.Errorf("DELETE %s: message %q, status %q, name %q, stdout %q; want %q, %q, %q, \"up\\n\"",
				c.path, p.Message, p.Status, p.Name, p.StdoutText(), c.message, c.status, name)
		}
	}
}

// recordKeys lists the members of a JSON object in order.
func recordKeys(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not an object", testsupport.Truncate(body))
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// wireOrder is the existing daemon's member order; stdin is ours
// (@blaxel/core's), at the end.
const wireOrder = "pid name command status startedAt completedAt exitCode workingDir logs stdout stderr restartOnFailure maxRestarts restartCount keepAlive stdin"

// TestProcessRecordFields: the record's members, in order, with the
// existing daemon's values for a running process and for one not waited
// for.
func TestProcessRecordFields(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	member := func(body []byte, key string) string {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("decode %s: %v", testsupport.Truncate(body), err)
		}
		return string(raw[key])
	}

	// Started without waiting: running, exit code 0, logs null, streams "".
	resp, body := d.do(http.MethodPost, "/process", map[string]any{"name": "obs-bg", "command": "echo started; sleep 100"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	if got := strings.Join(recordKeys(t, body), " "); got != wireOrder {
		t.Errorf("members %s, want %s", got, wireOrder)
	}
	for key, want := range map[string]string{
		"status": `"running"`, "completedAt": `""`, "exitCode": "0", "workingDir": `""`,
		"logs": "null", "stdout": `""`, "stderr": `""`,
	} {
		if got := member(body, key); got != want {
			t.Errorf("started: %s is %s, want %s", key, got, want)
		}
	}

	// Read while running: exit code 0, the output so far.
	d.waitOutput("obs-bg", "started")
	_, body = d.do(http.MethodGet, "/process/obs-bg", nil)
	if got := strings.Join(recordKeys(t, body), " "); got != wireOrder {
		t.Errorf("GET: members %s, want %s", got, wireOrder)
	}
	for key, want := range map[string]string{
		"status": `"running"`, "completedAt": `""`, "exitCode": "0", "workingDir": `""`,
		"logs": `"started\n"`, "stdout": `"started\n"`, "stderr": `""`,
	} {
		if got := member(body, key); got != want {
			t.Errorf("GET running: %s is %s, want %s", key, got, want)
		}
	}

	// The list and a stop answer (plus its message, at the end) keep the
	// order too.
	_, body = d.do(http.MethodGet, "/process", nil)
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil || len(list) != 1 {
		t.Fatalf("list %s: %v", testsupport.Truncate(body), err)
	}
	if got := strings.Join(recordKeys(t, list[0]), " "); got != wireOrder {
		t.Errorf("list: members %s, want %s", got, wireOrder)
	}
	_, body = d.do(http.MethodDelete, "/process/obs-bg", nil)
	if got := strings.Join(recordKeys(t, body), " "); got != wireOrder+" message" {
		t.Errorf("stop: members %s, want %s message", got, wireOrder)
	}

	// /logs answers its members in the existing daemon's order.
	_, body = d.do(http.MethodGet, "/process/obs-bg/logs", nil)
	if got := strings.Join(recordKeys(t, body), " "); got != "stdout stderr logs" {
		t.Errorf("logs: members %s, want stdout stderr logs", got)
	}

	// workingDir echoes the request, as given.
	for _, dir := range []string{"", ".", "/tmp", t.TempDir()} {
		spec := map[string]any{"command": "true", "waitForCompletion": true}
		if dir != "" {
			spec["workingDir"] = dir
		}
		if p := d.exec(spec); p.WorkingDir != dir {
			t.Errorf("workingDir %q in the record, want %q as requested", p.WorkingDir, dir)
		}
	}
}

// TestExecStreamTimeoutFrame: the error frame of a streamed exec that
// gives up says it as the 422 of a plain wait does.
func TestExecStreamTimeoutFrame(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	resp := d.openStream(t.Context(), http.MethodPost, "/process", map[string]any{"command": "sleep 100", "timeout": 1, "waitForCompletion": true}, "Accept", "text/event-stream")
	lr := readLines(resp.Body)
	var got []frame
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		var f frame
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		if f.Type != "keepalive" && f.Type != "result" {
			got = append(got, f)
		}
	}
	if want := []frame{{"error", "process timed out after 1 seconds"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("frames %v, want %v", got, want)
	}
}
