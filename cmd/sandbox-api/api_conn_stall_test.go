package main

// Black-box: every route that reads a body cuts a body that stops moving
// after --body-idle-timeout (408 where the handler can still answer), a
// slow body that keeps moving is served, and a request whose body is in
// may take as long as it needs. --header-timeout closes a connection whose
// request headers do not arrive in time.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stallIdle is the --body-idle-timeout of the tests that wait for a cut:
// small, so a stall is cut quickly.
const stallIdle = 2 * time.Second

// movingIdle is the --body-idle-timeout of the tests whose slow clients
// must never be cut: they send something every second, so only a pause of
// 9 s on a loaded machine could look like a stall.
const movingIdle = 10 * time.Second

func startStallDaemon(t *testing.T) *daemon {
	return startDaemon(t, daemonOptions{args: []string{"--token", connTestToken, "--body-idle-timeout", stallIdle.String()}})
}

// authed sends a request with the test token.
func (d *daemon) authed(method, path string, body any, header ...string) (*http.Response, []byte) {
	d.t.Helper()
	return d.do(method, path, body, append([]string{"Authorization", "Bearer " + connTestToken}, header...)...)
}

func TestStalledBodiesAreCut(t *testing.T) {
	d := startStallDaemon(t)
	auth := "Authorization: Bearer " + connTestToken + "\r\n"

	resp, body := d.authed(http.MethodPost, "/process", map[string]any{"name": "stdin-target", "command": "cat", "stdin": true})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start cat: %d %s", resp.StatusCode, body)
	}
	resp, body = d.authed(http.MethodPost, filesEnc("/filesystem-multipart/initiate/", d.workDir+"/parts.bin"), map[string]any{})
	var up struct {
		UploadID string `json:"uploadId"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &up) != nil {
		t.Fatalf("initiate a multipart upload: %d %s", resp.StatusCode, body)
	}

	const boundary = "stallboundary"
	tests := []struct {
		name    string
		head    string // request line and headers, without Content-Length
		partial string // the start of a body announced as 1000 bytes
		want    int    // 0: any status, the close is what counts
		chunked bool
	}{
		{name: "process JSON", head: "POST /process HTTP/1.1\r\nContent-Type: application/json\r\n", partial: `{"command":`, want: http.StatusRequestTimeout},
		{name: "process JSON, chunked", head: "POST /process HTTP/1.1\r\nContent-Type: application/json\r\n", partial: `{"command":`, want: http.StatusRequestTimeout, chunked: true},
		{name: "stdin", head: "POST /process/stdin-target/stdin HTTP/1.1\r\n", partial: "abc", want: http.StatusRequestTimeout},
		{name: "raw upload", head: "PUT " + filesEnc("/filesystem/", d.workDir+"/raw.bin") + " HTTP/1.1\r\nContent-Type: application/octet-stream\r\n", partial: "abc", want: http.StatusRequestTimeout},
		{name: "JSON file write", head: "PUT " + filesEnc("/filesystem/", d.workDir+"/json.txt") + " HTTP/1.1\r\nContent-Type: application/json\r\n", partial: `{"content":"ab`, want: http.StatusRequestTimeout},
		{
			name:    "multipart form upload",
			head:    "PUT " + filesEnc("/filesystem/", d.workDir+"/form.bin") + " HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\n",
			partial: "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nabc",
			want:    http.StatusRequestTimeout,
		},
		{name: "multipart part", head: "PUT /filesystem-multipart/" + up.UploadID + "/part?partNumber=1 HTTP/1.1\r\nContent-Type: application/octet-stream\r\n", partial: "abc", want: http.StatusRequestTimeout},
		{name: "multipart initiate", head: "POST " + filesEnc("/filesystem-multipart/initiate/", d.workDir+"/other.bin") + " HTTP/1.1\r\nContent-Type: application/json\r\n", partial: `{"perm`, want: http.StatusRequestTimeout},
		{name: "tree write", head: "PUT " + filesEnc("/filesystem/tree/", d.workDir+"/tree") + " HTTP/1.1\r\nContent-Type: application/json\r\n", partial: `{"files":`, want: http.StatusRequestTimeout},
		{name: "mcp", head: "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n", partial: `{"jsonrpc":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := d.dialRaw(t)
			if tt.chunked {
				rc.send(tt.head + "Host: x\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", len(tt.partial), tt.partial))
			} else {
				rc.send(tt.head + "Host: x\r\n" + auth + "Content-Length: 1000\r\n\r\n" + tt.partial)
			}
			resp, body := rc.answer()
			if tt.want != 0 && resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			rc.waitClosed()
		})
	}
	t.Run("nothing written", func(t *testing.T) {
		for _, name := range []string{"raw.bin", "json.txt", "form.bin", "other.bin", "tree"} {
			if _, err := os.Lstat(d.workDir + "/" + name); !os.IsNotExist(err) {
				t.Errorf("%s: %v, want it absent", name, err)
			}
		}
	})
	// The daemon still serves.
	if resp, body := d.authed(http.MethodGet, "/process", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /process after the stalls: %d %s", resp.StatusCode, body)
	}
}

// trickle sends s on rc a few bytes at a time, every movingIdle/10: slower
// than any real client, but never idle for the bound.
func trickle(rc *rawConn, s string, step int) {
	rc.t.Helper()
	for len(s) > 0 {
		n := min(step, len(s))
		rc.send(s[:n])
		s = s[n:]
		if len(s) > 0 {
			time.Sleep(movingIdle / 10)
		}
	}
}

// TestSlowMovingBodiesAreServed: bodies that take longer than the bound but
// never pause for it are served.
func TestSlowMovingBodiesAreServed(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--token", connTestToken, "--body-idle-timeout", movingIdle.String()}})
	auth := "Authorization: Bearer " + connTestToken + "\r\n"

	t.Run("raw upload, a byte at a time", func(t *testing.T) {
		t.Parallel()
		content := "slow but moving upload" // 22 bytes: about 2 bound lengths
		rc := d.dialRaw(t)
		rc.send("PUT " + filesEnc("/filesystem/", d.workDir+"/slow.txt") + " HTTP/1.1\r\nHost: x\r\n" + auth +
			"Content-Type: application/octet-stream\r\nContent-Length: " + strconv.Itoa(len(content)) + "\r\n\r\n")
		trickle(rc, content, 1)
		if resp, body := rc.answer(); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
		}
		got, err := os.ReadFile(d.workDir + "/slow.txt")
		if err != nil || string(got) != content {
			t.Fatalf("file holds %q (%v), want %q", got, err, content)
		}
	})
	t.Run("process JSON, a few bytes at a time", func(t *testing.T) {
		t.Parallel()
		spec := `{"command":"echo trickled","waitForCompletion":true}`
		rc := d.dialRaw(t)
		rc.send("POST /process HTTP/1.1\r\nHost: x\r\n" + auth +
			"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(spec)) + "\r\n\r\n")
		trickle(rc, spec, 3)
		resp, body := rc.answer()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "trickled") {
			t.Fatalf("status %d, want 200 with the output; body %s", resp.StatusCode, body)
		}
	})
}

// Once its body is in, a request may last longer than the body bound: the
// bound is on the client's sending, not on the answer.
func TestCompleteRequestsOutliveTheBodyBound(t *testing.T) {
	d := startStallDaemon(t)
	long := fmt.Sprintf("sleep %d; echo done", int(3*stallIdle/time.Second))

	t.Run("a wait for a process", func(t *testing.T) {
		t.Parallel()
		resp, body := d.authed(http.MethodPost, "/process", map[string]any{"command": long, "waitForCompletion": true})
		var p proc
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
			t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
		}
		if p.Status != "completed" || !strings.Contains(p.StdoutText(), "done") {
			t.Fatalf("process %s with output %q, want completed with done", p.Status, p.StdoutText())
		}
	})
	t.Run("a streamed exec", func(t *testing.T) {
		t.Parallel()
		req := d.request(t.Context(), http.MethodPost, "/process", map[string]any{"command": long},
			"Authorization", "Bearer "+connTestToken, "Accept", "text/event-stream")
		resp, err := d.stream.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("stream cut after %q: %v", body, err)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "done") {
			t.Fatalf("status %d, want 200 with the output; body %s", resp.StatusCode, body)
		}
	})
	t.Run("a keep-alive connection after a body", func(t *testing.T) {
		t.Parallel()
		rc := d.dialRaw(t)
		spec := `{"command":"` + long + `","waitForCompletion":true}`
		for i := range 2 {
			rc.send("POST /process HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + connTestToken +
				"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(spec)) + "\r\n\r\n" + spec)
			if resp, body := rc.answer(); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "done") {
				t.Fatalf("request %d: status %d, want 200 with the output; body %s", i, resp.StatusCode, body)
			}
		}
	})
}

// TestSlowHeadersAreCut: a connection whose request headers do not come
// in time is closed. The bound is long enough that a complete request sent
// at once is never cut, however loaded the machine.
func TestSlowHeadersAreCut(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--header-timeout", "10s"}})
	tests := []struct {
		name  string
		first string // a complete request sent first, on a kept-alive connection
		then  string
	}{
		{name: "nothing sent"},
		{name: "half the headers", then: "GET /health HTTP/1.1\r\nHost: x\r\n"},
		{name: "half the headers after a request", first: "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", then: "GET /health HTTP/1.1\r\nHo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := d.dialRaw(t)
			if tt.first != "" {
				rc.send(tt.first)
				if resp, body := rc.answer(); resp.StatusCode != http.StatusOK {
					t.Fatalf("first request: %d %s", resp.StatusCode, body)
				}
			}
			rc.send(tt.then)
			rc.waitClosedAfterAny() // net/http may say 400 first
		})
	}
}
