package main

// Black-box tests of the browser guard: without a token, requests that
// carry a browser's markers for another origin, another site or a Host the
// daemon does not know run nothing, while clients that are not browsers
// keep today's behaviour.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"

// sendAs sends a request with the given Host (empty: the daemon's address)
// and headers, and returns the status, the headers and the body. It does
// not follow redirects.
func (d *daemon) sendAs(method, path, host string, body any, header ...string) (int, http.Header, []byte) {
	d.t.Helper()
	req := d.request(context.Background(), method, path, body, header...)
	if host != "" {
		req.Host = host
	}
	client := *d.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s (Host %s): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, data
}

// processCount is the number of processes the daemon has started.
func (d *daemon) processCount() int {
	d.t.Helper()
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	return len(list)
}

func TestBrowserPagesOfOtherOriginsRunNothing(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	own := d.url
	rebound := fmt.Sprintf("evil.example:%d", d.port)
	dir := t.TempDir()
	touch := func(name string) string {
		b, _ := json.Marshal(map[string]any{"command": "touch " + testsupport.ShellQuote(filepath.Join(dir, name)), "waitForCompletion": true})
		return string(b)
	}
	attacks := []struct {
		name   string
		host   string
		header []string
		want   int
	}{
		{"text/plain fetch from another origin", "", []string{"Content-Type", "text/plain;charset=UTF-8",
			"Origin", "http://127.0.0.1:1", "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "empty", "User-Agent", chromeUA}, 403},
		{"form post, enctype=text/plain, from another site", "", []string{"Content-Type", "text/plain",
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, 403},
		{"urlencoded form from another origin over plain http", "", []string{"Content-Type", "application/x-www-form-urlencoded",
			"Origin", "http://evil.example"}, 403},
		{"cross-site request without Origin", "", []string{"Content-Type", "text/plain", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, 403},
		{"rebound page, JSON", rebound, []string{"Content-Type", "application/json", "Origin", "http://" + rebound, "User-Agent", chromeUA}, 403},
		{"own page, text/plain", "", []string{"Content-Type", "text/plain", "Origin", own}, 415},
		{"own page, multipart", "", []string{"Content-Type", "multipart/form-data; boundary=x", "Origin", own}, 415},
		{"own page, no Content-Type", "", []string{"Origin", own, "Sec-Fetch-Site", "same-origin"}, 415},
	}
	for i, a := range attacks {
		name := fmt.Sprintf("attack-%d", i)
		status, h, body := d.sendAs(http.MethodPost, "/process", a.host, touch(name), a.header...)
		if status != a.want {
			t.Errorf("%s: status %d, want %d: %s", a.name, status, a.want, body)
		}
		var e struct{ Error string }
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: body %s, want a JSON error", a.name, body)
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q: the page could read the answer", a.name, got)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s: the command ran (%v)", a.name, err)
		}
	}
	if n := d.processCount(); n != 0 {
		t.Fatalf("%d processes started by refused requests", n)
	}

	// Clients that are not browsers keep today's behaviour, whatever the
	// body type: curl -d, and Node's fetch (the SDK), which sends
	// Sec-Fetch-Mode and nothing else of the kind.
	for name, header := range map[string][]string{
		"curl":       {"Content-Type", "application/x-www-form-urlencoded", "User-Agent", "curl/8.5.0"},
		"node fetch": {"Content-Type", "text/plain;charset=UTF-8", "Sec-Fetch-Mode", "cors", "User-Agent", "node"},
		"own page":   {"Content-Type", "application/json", "Origin", own, "Sec-Fetch-Site", "same-origin", "User-Agent", chromeUA},
	} {
		status, h, body := d.sendAs(http.MethodPost, "/process", "", touch(name), header...)
		if status != http.StatusOK {
			t.Errorf("%s: status %d, want 200: %s", name, status, body)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: the command did not run: %v", name, err)
		}
		if name == "own page" && h.Get("Access-Control-Allow-Origin") != own {
			t.Errorf("own page: Access-Control-Allow-Origin %q, want %q", h.Get("Access-Control-Allow-Origin"), own)
		}
	}
}

// TestBrowserCannotWriteStdin: POST /process/{id}/stdin is held to the
// same rule; a curl write goes through, a page's text/plain one does not.
func TestBrowserCannotWriteStdin(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	out := filepath.Join(t.TempDir(), "stdin")
	p := d.exec(map[string]any{"command": "cat > " + testsupport.ShellQuote(out), "stdin": true})
	path := "/process/" + p.PID + "/stdin"
	if status, _, body := d.sendAs(http.MethodPost, path, "", "from-page\n", "Content-Type", "text/plain", "Origin", d.url); status != http.StatusUnsupportedMediaType {
		t.Errorf("own page, text/plain stdin: status %d, want 415: %s", status, body)
	}
	if status, _, body := d.sendAs(http.MethodPost, path, "", "from-other\n", "Content-Type", "text/plain", "Origin", "http://127.0.0.1:1"); status != http.StatusForbidden {
		t.Errorf("other origin, text/plain stdin: status %d, want 403: %s", status, body)
	}
	if status, _, body := d.sendAs(http.MethodPost, path, "", "from-curl\n", "Content-Type", "text/plain"); status != http.StatusOK {
		t.Errorf("curl stdin: status %d, want 200: %s", status, body)
	}
	d.doJSON(http.MethodDelete, path, nil, http.StatusOK, nil)
	d.waitEnded(p.PID)
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "from-curl\n" {
		t.Fatalf("stdin received %q (%v), want only the curl write", got, err)
	}
}

// TestBrowserTerminalWebsocketOrigin: a page of another origin gets no
// shell; the daemon's own page does.
func TestBrowserTerminalWebsocketOrigin(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{env: []string{"SHELL=/bin/sh"}})
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(d.url, "http") + "/terminal/ws?sessionId="
	for _, origin := range []string{"http://127.0.0.1:1", "https://evil.example", "null"} {
		conn, resp, err := websocket.Dial(ctx, wsURL+"cross", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err == nil {
			conn.CloseNow()
			t.Fatalf("Origin %s: websocket opened", origin)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("Origin %s: %v (response %v), want 403", origin, err, resp)
		}
	}
	var sessions []struct{ ID string }
	d.doJSON(http.MethodGet, "/terminal/sessions", nil, http.StatusOK, &sessions)
	if len(sessions) != 0 {
		t.Fatalf("refused websockets started sessions %+v", sessions)
	}

	conn, _, err := websocket.Dial(ctx, wsURL+"own", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {d.url}}})
	if err != nil {
		t.Fatalf("the daemon's own page: %v", err)
	}
	tc := &termConn{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	tc.input("echo own-$((6*7))\n")
	tc.mustSee("own-42")
}

// TestBrowserDNSRebinding: a page whose own name now resolves to the
// daemon sends its name as Host. It can neither run nor read anything,
// forwarding headers included; the names the daemon knows still work.
func TestBrowserDNSRebinding(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("do not leak"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := "/filesystem/" + secret
	port := d.port
	tests := []struct {
		name, host string
		header     []string
		want       int
	}{
		// Same-origin GETs of an http page carry no Origin and no Sec-Fetch-*
		// (measured with Chromium); the User-Agent gives the browser away.
		{"rebound GET", fmt.Sprintf("evil.example:%d", port), []string{"User-Agent", chromeUA, "Accept", "*/*"}, 403},
		{"rebound GET forging X-Forwarded-Host", fmt.Sprintf("evil.example:%d", port), []string{"User-Agent", chromeUA, "X-Forwarded-Host", fmt.Sprintf("127.0.0.1:%d", port)}, 403},
		{"rebound GET with fetch metadata", fmt.Sprintf("evil.example:%d", port), []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}, 403},
		{"browser on localhost", fmt.Sprintf("localhost:%d", port), []string{"User-Agent", chromeUA}, 200},
		{"browser on the IP", "", []string{"User-Agent", chromeUA}, 200},
		{"script through a proxy with a name of its own", "sbx-1.platform.example", []string{"User-Agent", "curl/8.5.0"}, 200},
	}
	for _, tt := range tests {
		status, _, body := d.sendAs(http.MethodGet, read, tt.host, nil, tt.header...)
		if status != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.want, body)
		}
		if tt.want != 200 && strings.Contains(string(body), "do not leak") {
			t.Errorf("%s: the file leaked", tt.name)
		}
	}
}

// TestBrowserCORSOnlyForAllowedOrigins: without a token, CORS headers and
// preflights are for the daemon's own pages and --allowed-origins only.
func TestBrowserCORSOnlyForAllowedOrigins(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	status, h, _ := d.sendAs(http.MethodGet, "/health", "", nil, "Origin", "https://app.example")
	if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from another origin: status %d, Access-Control-Allow-Origin %q; want 403 and none", status, h.Get("Access-Control-Allow-Origin"))
	}
	status, h, _ = d.sendAs(http.MethodOptions, "/process", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: status %d, Access-Control-Allow-Origin %q; want 403 and none", status, h.Get("Access-Control-Allow-Origin"))
	}

	listed := startDaemon(t, daemonOptions{args: []string{"--allowed-origins", "https://app.example", "--allowed-hosts", "sbx.example.org"}})
	status, h, _ = listed.sendAs(http.MethodOptions, "/process", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type")
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Errorf("preflight from a listed origin: status %d, headers %v", status, h)
	}
	var p proc
	status, h, body := listed.sendAs(http.MethodPost, "/process", "", map[string]any{"command": "echo hi", "waitForCompletion": true},
		"Content-Type", "application/json", "Origin", "https://app.example", "Sec-Fetch-Site", "cross-site")
	if status != http.StatusOK || json.Unmarshal(body, &p) != nil || p.StdoutText() != "hi\n" || h.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("POST from a listed origin: status %d, body %s, Allow-Origin %q", status, body, h.Get("Access-Control-Allow-Origin"))
	}
	// A listed host: the page the platform serves on its own name.
	status, _, body = listed.sendAs(http.MethodGet, "/process", "sbx.example.org", nil, "Origin", "https://sbx.example.org", "User-Agent", chromeUA)
	if status != http.StatusOK {
		t.Errorf("page on a listed host: status %d: %s", status, body)
	}
}

// TestTerminalPageHeaders: the page may be framed by its own origin only,
// and the terminal cookie is scoped, expires, and is Secure only when the
// daemon can believe the request came over TLS.
func TestTerminalPageHeaders(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--token", "tok"}})
	status, h, _ := d.sendAs(http.MethodGet, "/terminal", "", nil, "Authorization", "Bearer tok")
	if status != http.StatusOK || h.Get("Content-Security-Policy") != "frame-ancestors 'self'" {
		t.Errorf("GET /terminal: status %d, Content-Security-Policy %q; want frame-ancestors 'self'", status, h.Get("Content-Security-Policy"))
	}
	plain := terminalLogin(t, d, "")
	for _, attr := range []string{"Path=/terminal", "Max-Age=43200", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(plain, attr) {
			t.Errorf("Set-Cookie %q lacks %s", plain, attr)
		}
	}
	if strings.Contains(plain, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP", plain)
	}
	// Any client (or page) can send X-Forwarded-Proto; only a listed host's
	// proxy is believed.
	if c := terminalLogin(t, d, "", "X-Forwarded-Proto", "https"); strings.Contains(c, "Secure") {
		t.Errorf("Set-Cookie %q: X-Forwarded-Proto believed for an unlisted host", c)
	}
	listed := startDaemon(t, daemonOptions{args: []string{"--token", "tok", "--allowed-hosts", "sbx.example.org"}})
	if c := terminalLogin(t, listed, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "sbx.example.org"); !strings.Contains(c, "Secure") {
		t.Errorf("Set-Cookie %q: not Secure behind the https proxy of a listed host", c)
	}
}

// terminalLogin opens /terminal?token=tok and returns the Set-Cookie header.
func terminalLogin(t *testing.T, d *daemon, host string, header ...string) string {
	t.Helper()
	status, h, body := d.sendAs(http.MethodGet, "/terminal?token=tok", host, nil, header...)
	if status != http.StatusSeeOther {
		t.Fatalf("login: status %d: %s", status, body)
	}
	return h.Get("Set-Cookie")
}
