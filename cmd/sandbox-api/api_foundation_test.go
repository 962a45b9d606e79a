package main

// Black-box tests of the HTTP foundation (health, CORS, errors, limits,
// auth) and of the daemon's life cycle (boot command, shutdown).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	d := startDaemon(t, daemonOptions{})

	resp, body := d.do(http.MethodGet, "/health", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	for _, k := range []string{"status", "version", "gitCommit", "buildTime", "goVersion", "os", "arch", "startedAt", "uptime", "uptimeSeconds", "upgradeCount", "lastUpgrade"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("health has no %q field: %s", k, body)
		}
	}
	var h struct {
		Status        string  `json:"status"`
		Version       string  `json:"version"`
		GitCommit     string  `json:"gitCommit"`
		BuildTime     string  `json:"buildTime"`
		GoVersion     string  `json:"goVersion"`
		OS            string  `json:"os"`
		Arch          string  `json:"arch"`
		StartedAt     string  `json:"startedAt"`
		Uptime        string  `json:"uptime"`
		UptimeSeconds float64 `json:"uptimeSeconds"`
		UpgradeCount  int     `json:"upgradeCount"`
		LastUpgrade   struct {
			Status  *string `json:"status"`
			Step    *string `json:"step"`
			Version *string `json:"version"`
		} `json:"lastUpgrade"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if h.Status != "ok" {
		t.Errorf("status %q, want ok", h.Status)
	}
	if h.Version != "dev" || h.GitCommit != "unknown" || h.BuildTime != "unknown" {
		t.Errorf("build info %q/%q/%q, want the unstamped dev/unknown/unknown", h.Version, h.GitCommit, h.BuildTime)
	}
	if !strings.HasPrefix(h.GoVersion, "go") || h.OS != "linux" || h.Arch != runtime.GOARCH {
		t.Errorf("goVersion/os/arch = %q/%q/%q", h.GoVersion, h.OS, h.Arch)
	}
	started, err := time.Parse(time.RFC3339, h.StartedAt)
	if err != nil {
		t.Errorf("startedAt %q is not RFC 3339: %v", h.StartedAt, err)
	} else if started.Before(before) || started.After(time.Now()) {
		t.Errorf("startedAt %s is not between the test start %s and now", started, before)
	}
	if _, err := time.ParseDuration(h.Uptime); err != nil {
		t.Errorf("uptime %q is not a duration: %v", h.Uptime, err)
	}
	if h.UptimeSeconds < 0 || h.UptimeSeconds > time.Since(before).Seconds()+1 {
		t.Errorf("uptimeSeconds %v out of range", h.UptimeSeconds)
	}
	if h.UpgradeCount != 0 || testsupport.Deref(h.LastUpgrade.Status) != "idle" || testsupport.Deref(h.LastUpgrade.Step) != "none" || h.LastUpgrade.Version == nil {
		t.Errorf("upgrade state %d %+v, want 0 idle/none/\"\"", h.UpgradeCount, h.LastUpgrade)
	}

	// HEAD answers too, without a body.
	resp, body = d.do(http.MethodHead, "/health", nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD /health: status %d, %d body bytes; want 200 and none", resp.StatusCode, len(body))
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "secret"} {
		t.Run("token="+token, func(t *testing.T) {
			// Without a token only listed origins get CORS headers.
			args := []string{"--allowed-origins", "https://app.example"}
			wantOrigin := "https://app.example"
			if token != "" {
				args = []string{"--token", token}
				wantOrigin = "*"
			}
			d := startDaemon(t, daemonOptions{args: args})
			for _, path := range []string{"/process", "/process/123/logs", "/health", "/no-such-route"} {
				resp, body := d.do(http.MethodOptions, path, nil,
					"Origin", "https://app.example",
					"Access-Control-Request-Method", "POST",
					"Access-Control-Request-Headers", "authorization,content-type")
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("OPTIONS %s: status %d, want 204: %s", path, resp.StatusCode, body)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != wantOrigin {
					t.Errorf("OPTIONS %s: Access-Control-Allow-Origin %q, want %s", path, got, wantOrigin)
				}
				if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") || !strings.Contains(got, "DELETE") {
					t.Errorf("OPTIONS %s: Access-Control-Allow-Methods %q lacks POST or DELETE", path, got)
				}
				if got := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "authorization") {
					t.Errorf("OPTIONS %s: Access-Control-Allow-Headers %q does not allow Authorization", path, got)
				}
			}
			// Errors carry the CORS header too, or a browser cannot read them.
			resp, _ := d.do(http.MethodGet, "/no-such-route", nil, "Origin", "https://app.example")
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != wantOrigin {
				t.Errorf("error answer: Access-Control-Allow-Origin %q, want %s", got, wantOrigin)
			}
		})
	}
}

func TestCacheControlNoStore(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/health"},
		{http.MethodGet, "/process"},
		{http.MethodGet, "/process/nope"},
		{http.MethodGet, "/no-such-route"},
		{http.MethodPost, "/process"},
	} {
		resp, _ := d.do(c.method, c.path, nil)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (status %d): Cache-Control %q, want no-store", c.method, c.path, resp.StatusCode, got)
		}
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, path := range []string{"/nope", "/process/123/nope", "/filesystem-nope/x"} {
		msg := d.wantError(http.MethodGet, path, nil, http.StatusNotFound)
		if !strings.Contains(msg, path) {
			t.Errorf("GET %s: error %q does not name the path", path, msg)
		}
	}
}

func TestWrongMethodIsJSON405(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, c := range []struct {
		method, path string
		allow        []string
	}{
		{http.MethodPut, "/process", []string{"GET", "POST"}},
		{http.MethodPatch, "/health", []string{"GET", "HEAD"}},
		{http.MethodPost, "/process/123/logs", []string{"GET"}},
	} {
		msg := d.wantError(c.method, c.path, nil, http.StatusMethodNotAllowed)
		if !strings.Contains(msg, c.method) {
			t.Errorf("%s %s: error %q does not name the method", c.method, c.path, msg)
		}
		resp, _ := d.do(c.method, c.path, nil)
		allow := resp.Header.Get("Allow")
		for _, m := range c.allow {
			if !strings.Contains(allow, m) {
				t.Errorf("%s %s: Allow %q lacks %s", c.method, c.path, allow, m)
			}
		}
	}
}

func TestOversizedJSONBodyIs413(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	body := `{"command":"true","name":"` + strings.Repeat("a", 1<<20+1024) + `"}`
	msg := d.wantError(http.MethodPost, "/process", body, http.StatusRequestEntityTooLarge)
	if !strings.Contains(msg, "larger than") {
		t.Errorf("error %q does not say the body is too large", msg)
	}
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("the oversized request started a process: %+v", list)
	}
}

func TestOversizedHeaderIsRefused(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(hangGuard))
	// 128 KiB of header: twice the daemon's 64 KiB limit.
	go func() {
		_, _ = io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 128<<10)+"\r\n\r\n")
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no HTTP answer to an oversized header: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	// A header within the limit is fine.
	resp2, _ := d.do(http.MethodGet, "/health", nil, "X-Big", strings.Repeat("a", 32<<10))
	if resp2.StatusCode != http.StatusOK {
		t.Errorf("32 KiB header: status %d, want 200", resp2.StatusCode)
	}
}

// TestSlowloris: clients that send their headers a byte at a time and never
// finish hold no resource others need, and are cut off eventually.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	const slowClients = 20
	// With a header timeout longer than the hang guard none of them is cut
	// off meanwhile: /health answering shows they block nothing, however
	// long the answers take on a loaded machine.
	patient := startDaemon(t, daemonOptions{args: []string{"--header-timeout", "1h"}})
	dribbleHeaders(t, patient, slowClients)
	for i := 0; i < 10; i++ {
		resp, body := patient.do(http.MethodGet, "/health", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/health during slowloris: status %d: %s", resp.StatusCode, body)
		}
	}
	// The daemon's header timeout (the default) cuts every slow client off.
	d := startDaemon(t, daemonOptions{})
	closedByServer := dribbleHeaders(t, d, slowClients)
	for i := 0; i < slowClients; i++ {
		testsupport.Receive(t, closedByServer, fmt.Sprintf("the header timeout to cut off slow client %d of %d", i+1, slowClients))
	}
}

// dribbleHeaders connects n clients that send a request's headers a byte at
// a time and never finish them. It returns once each has sent its first
// byte; the channel gets a value for each client the daemon hangs up on.
func dribbleHeaders(t *testing.T, d *daemon, n int) <-chan struct{} {
	t.Helper()
	stop := make(chan struct{})
	var writers, started sync.WaitGroup
	closedByServer := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		writers.Add(1)
		started.Add(1)
		go func() {
			defer writers.Done()
			req := "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 10000)
			for i := 0; i < len(req); i++ {
				_, err := conn.Write([]byte{req[i]})
				if i == 0 {
					started.Done()
				}
				if err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		go func() {
			_, _ = conn.Read(make([]byte, 1024)) // returns when the server hangs up
			closedByServer <- struct{}{}
		}()
	}
	t.Cleanup(func() { close(stop); writers.Wait() })
	started.Wait()
	return closedByServer
}

func TestAuth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		opts  daemonOptions
		token string
	}{
		{"flag", daemonOptions{args: []string{"--token", "secret"}}, "secret"},
		{"env", daemonOptions{env: []string{envToken + "=env-secret"}}, "env-secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, c.opts)
			for _, auth := range []string{"", "Bearer wrong", "Bearer " + c.token + "x", "Basic " + c.token, c.token, "Bearer"} {
				for _, r := range []struct{ method, path string }{
					{http.MethodGet, "/process"},
					{http.MethodPost, "/process"},
					{http.MethodGet, "/process/1/logs/stream"},
					{http.MethodGet, "/no-such-route"},
				} {
					var header []string
					if auth != "" {
						header = []string{"Authorization", auth}
					}
					resp, body := d.do(r.method, r.path, `{"command":"touch started"}`, header...)
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s %s with Authorization %q: status %d, want 401", r.method, r.path, auth, resp.StatusCode)
						continue
					}
					var e struct{ Error string }
					if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
						t.Errorf("%s %s: 401 body %q is not a JSON error", r.method, r.path, body)
					}
					if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s %s: WWW-Authenticate %q, want Bearer", r.method, r.path, resp.Header.Get("WWW-Authenticate"))
					}
				}
			}
			// /health is open.
			if resp, _ := d.do(http.MethodGet, "/health", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("/health without a token: status %d, want 200", resp.StatusCode)
			}
			// The right token opens everything; the scheme is case-insensitive.
			for _, auth := range []string{"Bearer " + c.token, "bearer " + c.token} {
				resp, body := d.do(http.MethodGet, "/process", nil, "Authorization", auth)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET /process with %q: status %d: %s", auth, resp.StatusCode, body)
				} else if strings.TrimSpace(string(body)) != "[]" {
					t.Errorf("a refused request started a process: %s", body)
				}
			}
			// The managed processes do not see the credential.
			resp, body := d.do(http.MethodPost, "/process",
				map[string]any{"command": `echo "[${SANDBOX_API_TOKEN-unset}]"`, "waitForCompletion": true},
				"Authorization", "Bearer "+c.token)
			var p proc
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
				t.Fatalf("exec with token: status %d: %s", resp.StatusCode, body)
			}
			if p.StdoutText() != "[unset]\n" {
				t.Errorf("a managed process sees SANDBOX_API_TOKEN: %q", p.StdoutText())
			}
		})
	}
}

func TestBootCommand(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"-c", "echo booted; echo to-stderr >&2; sleep 100"}})
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	if len(list) != 1 || list[0].Name != "boot-command" {
		t.Fatalf("process list %+v, want the boot command alone", list)
	}
	p := d.get("boot-command")
	if p.Status != "running" || p.Command != "echo booted; echo to-stderr >&2; sleep 100" || p.PID != list[0].PID {
		t.Errorf("boot command record %+v", p)
	}
	// It asked for no working directory: the record echoes "" as for any
	// request without one, and it ran in the daemon's.
	if p.WorkingDir != "" {
		t.Errorf("boot command working dir %q in the record, want \"\"", p.WorkingDir)
	}
	d.waitOutput("boot-command", "to-stderr")
	l := d.logs("boot-command")
	if testsupport.Deref(l.Stdout) != "booted\n" || testsupport.Deref(l.Stderr) != "to-stderr\n" {
		t.Errorf("boot command output %q / %q", testsupport.Deref(l.Stdout), testsupport.Deref(l.Stderr))
	}
}

func TestBootCommandThatCannotStart(t *testing.T) {
	t.Parallel()
	// The API stays up even when the boot command fails at once.
	d := startDaemon(t, daemonOptions{args: []string{"-c", "exit 7"}})
	p := d.waitEnded("boot-command")
	if p.Status != "failed" || p.ExitCode != 7 {
		t.Errorf("boot command ended %s/%d, want failed/7", p.Status, p.ExitCode)
	}
}

// TestGracefulShutdown: SIGTERM stops every managed process tree, and the
// daemon exits 0 with a stream open and a request waiting. Every process
// here obeys SIGTERM and the grace is the hang guard, so each one ends
// stopped however slow the machine, and the daemon exits as soon as all
// have ended. TestGracefulShutdownKillsWhatIgnoresTERM has the other case.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--shutdown-grace", hangGuard.String()}, grace: hangGuard})

	pgids := map[int]bool{}
	var leaders []proc
	for _, spec := range []map[string]any{
		{"command": "sleep 1000"},
		{"command": "sleep 1000 & sleep 1000 & echo ready; wait"},
		{"command": "cat", "stdin": true},
		{"command": "sh -c 'sleep 1000' & echo ready; wait", "keepAlive": true, "timeout": 0},
	} {
		p := d.exec(spec)
		pid, _ := strconv.Atoi(p.PID)
		pgids[pid] = true
		leaders = append(leaders, p)
	}
	for _, p := range leaders {
		if strings.Contains(p.Command, "ready") {
			d.waitOutput(p.PID, "ready")
		}
	}
	// Open requests at shutdown: a log stream, and a client waiting for a
	// process. Both get a proper end, not a cut connection.
	stream := d.openStream(t.Context(), http.MethodGet, "/process/"+leaders[0].PID+"/logs/stream", nil)
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("log stream: status %d", stream.StatusCode)
	}
	streamEnd := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stream.Body)
		streamEnd <- err
	}()
	type answer struct {
		status int
		body   []byte
		err    error
	}
	waiter := make(chan answer, 1)
	go func() {
		resp, err := d.client.Post(d.url+"/process", "application/json", strings.NewReader(`{"command":"sleep 1000","name":"waiter","waitForCompletion":true}`))
		if err != nil {
			waiter <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		waiter <- answer{resp.StatusCode, body, err}
	}()
	var w proc
	testsupport.Eventually(t, func() (bool, string) {
		resp, body := d.do(http.MethodGet, "/process/waiter", nil)
		if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &w) == nil {
			return true, ""
		}
		return false, "the waiting request did not start its process"
	})
	wpid, _ := strconv.Atoi(w.PID)
	pgids[wpid] = true

	before := liveInGroups(pgids)
	if len(before) < 8 {
		t.Fatalf("expected at least 8 live processes in the managed groups, found %v", before)
	}

	// stop fails past the grace, the HTTP drain and the hang guard: the
	// daemon waits neither for the sleeps to end on their own nor forever.
	err, took := d.stop()
	if err != nil {
		t.Fatalf("daemon shutdown: %v (after %s)", err, took)
	}
	t.Logf("daemon exited 0 %s after SIGTERM", took.Round(time.Millisecond))
	testsupport.Eventually(t, func() (bool, string) {
		left := liveInGroups(pgids)
		return len(left) == 0, fmt.Sprintf("processes of the managed groups still alive after shutdown: %v", left)
	})

	if err := testsupport.Receive(t, streamEnd, "the open log stream to end with the daemon"); err != nil {
		t.Errorf("the open log stream was cut at shutdown: %v", err)
	}
	a := testsupport.Receive(t, waiter, "the waiting request to end with the daemon")
	var p proc
	if a.err != nil || a.status != http.StatusOK || json.Unmarshal(a.body, &p) != nil {
		t.Errorf("the waiting request got %d %v %s, want 200 with the final record", a.status, a.err, a.body)
	} else if p.Status != "stopped" {
		t.Errorf("the waiting request got status %q, want stopped", p.Status)
	}
}

// TestGracefulShutdownKillsWhatIgnoresTERM: a process tree that ignores
// SIGTERM is killed once the (short) grace has passed, and the daemon still
// exits 0.
func TestGracefulShutdownKillsWhatIgnoresTERM(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	d := startDaemon(t, daemonOptions{args: []string{"--shutdown-grace", grace.String()}, grace: grace})
	p := d.exec(map[string]any{"command": "trap '' TERM; sleep 1000 & echo ready; while :; do sleep 0.2; done"})
	d.waitOutput(p.PID, "ready")
	pgid, _ := strconv.Atoi(p.PID)
	pgids := map[int]bool{pgid: true}
	if before := liveInGroups(pgids); len(before) < 2 {
		t.Fatalf("expected the shell and its sleep in the managed group, found %v", before)
	}
	if err, took := d.stop(); err != nil {
		t.Fatalf("daemon shutdown: %v (after %s)", err, took)
	}
	testsupport.Eventually(t, func() (bool, string) {
		left := liveInGroups(pgids)
		return len(left) == 0, fmt.Sprintf("processes of the TERM-ignoring group still alive after shutdown: %v", left)
	})
}

func TestShutdownOnSIGINT(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 1000"})
	pid, _ := strconv.Atoi(p.PID)
	if err, took := d.stopWith(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT shutdown: %v after %s", err, took)
	}
	testsupport.Eventually(t, func() (bool, string) {
		return !pidLive(pid), "managed process survived the SIGINT shutdown"
	})
}
