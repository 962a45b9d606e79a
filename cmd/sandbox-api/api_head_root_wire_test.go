package main

// HEAD answers every GET route with GET's status and headers and no body,
// streams included (at once, without starting one); GET / answers like the
// existing daemon's welcome.

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/server"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/terminal/webui"
	"github.com/sandbox-api/sandbox-api/watch"
)

// getRoutes lists the GET route patterns of the daemon's router, built
// here the way main builds it, so a new GET route is covered by the HEAD
// test without a line of its own.
func getRoutes(t *testing.T) []string {
	t.Helper()
	m, err := process.NewManager(process.Config{LogDir: t.TempDir(), WorkingDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(time.Second)
	files, err := filesystem.New(filesystem.Config{WorkingDir: t.TempDir(), UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	ports := network.New(network.Config{Processes: m})
	defer ports.Close()
	terms := terminal.NewManager(terminal.Config{})
	defer terms.Close()
	h := server.New(server.Options{}, server.Services{Processes: m, Files: files, Watches: watch.New(files, watch.Config{}), Network: ports, Terminals: terms})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("the handler is a %T, not a chi router", h)
	}
	var out []string
	err = chi.Walk(routes, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet {
			out = append(out, pattern)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

var routeParam = regexp.MustCompile(`\{[^}]+\}|\*$`)

// headersDiffer lists the headers (but the volatile ones) in which a and b
// differ.
func headersDiffer(a, b http.Header) []string {
	volatile := map[string]bool{"Date": true, "X-Request-Id": true, "Content-Length": true}
	var diff []string
	seen := map[string]bool{}
	for _, h := range []http.Header{a, b} {
		for k := range h {
			if seen[k] || volatile[k] {
				continue
			}
			seen[k] = true
			if strings.Join(a.Values(k), ",") != strings.Join(b.Values(k), ",") {
				diff = append(diff, k+": "+strings.Join(a.Values(k), ",")+" vs "+strings.Join(b.Values(k), ","))
			}
		}
	}
	sort.Strings(diff)
	return diff
}

func TestHeadAnswersEveryGetRoute(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "echo up; sleep 600", "name": "head-probe"})
	defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
	var upload struct {
		UploadID string `json:"uploadId"`
	}
	d.doJSON(http.MethodPost, "/filesystem-multipart/initiate/"+url.PathEscape(d.workDir+"/big.bin"), nil, http.StatusOK, &upload)
	asset := "missing.js"
	if entries, err := fs.ReadDir(webui.Assets(), "."); err == nil && len(entries) > 0 {
		asset = entries[0].Name()
	}
	values := map[string]string{
		"{identifier}": p.Name,
		"{pid}":        p.PID,
		"{uploadId}":   upload.UploadID,
		"{name}":       asset,
		"*":            url.PathEscape(d.workDir),
	}

	routes := getRoutes(t)
	if len(routes) < 15 {
		t.Fatalf("only %d GET routes found: %v", len(routes), routes)
	}
	for _, pattern := range routes {
		target := routeParam.ReplaceAllStringFunc(pattern, func(param string) string {
			v, ok := values[param]
			if !ok {
				t.Errorf("%s: no value for %s; add one to the test", pattern, param)
			}
			return v
		})
		t.Run(strings.ReplaceAll(pattern, "/", "_"), func(t *testing.T) {
			// GET's headers, without reading a stream's body.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			get, err := d.stream.Do(d.request(ctx, http.MethodGet, target, nil))
			if err != nil {
				t.Fatalf("GET %s: %v", target, err)
			}
			get.Body.Close()
			cancel()

			// The HEAD answers at once (d.client has the hang guard), streams
			// included.
			head, body := d.do(http.MethodHead, target, nil)
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD %s: status %d, GET's is %d", target, head.StatusCode, get.StatusCode)
			}
			if len(body) != 0 {
				t.Errorf("HEAD %s: %d body bytes", target, len(body))
			}
			if diff := headersDiffer(get.Header, head.Header); len(diff) > 0 {
				t.Errorf("HEAD %s: headers differ from GET's: %v", target, diff)
			}
		})
	}
}

// The routes a probe is most likely to HEAD, named, with their answers.
func TestHeadOfListsAndStreams(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "echo up; sleep 600", "name": "streamer"})
	defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
	tests := []struct {
		path     string
		status   int
		wantType string
	}{
		{"/process", http.StatusOK, "application/json"},
		{"/network/ports", http.StatusOK, "application/json"},
		{"/terminal", http.StatusOK, "text/html"},
		{"/", http.StatusOK, "application/json"},
		{"/process/streamer/logs/stream", http.StatusOK, "text/plain"},
		{"/process/nope/logs/stream", http.StatusNotFound, "application/json"},
		{"/watch/filesystem/" + url.PathEscape(d.workDir), http.StatusOK, "application/x-ndjson"},
		{"/watch/filesystem/" + url.PathEscape(d.workDir+"/nope"), http.StatusNotFound, "application/json"},
		{"/terminal/ws", http.StatusUpgradeRequired, "application/json"},
	}
	for _, tt := range tests {
		resp, body := d.do(http.MethodHead, tt.path, nil)
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) || len(body) != 0 {
			t.Errorf("HEAD %s: %d %q with %d body bytes, want %d %s and no body",
				tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), tt.status, tt.wantType)
		}
	}
}

// A HEAD carrying a WebSocket handshake's headers is still no handshake: it
// starts no shell.
func TestHeadOfTerminalSocketStartsNoShell(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	resp, _ := d.do(http.MethodHead, "/terminal/ws", nil,
		"Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("HEAD /terminal/ws with handshake headers: %d, want 426", resp.StatusCode)
	}
	var sessions []any
	d.doJSON(http.MethodGet, "/terminal/sessions", nil, http.StatusOK, &sessions)
	if len(sessions) != 0 {
		t.Errorf("the HEAD started terminal sessions: %v", sessions)
	}
}

func TestRootAnswersLikeTheExistingDaemon(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--token", "secret-root"}})
	// Behind the token, like every route but /health.
	d.wantError(http.MethodGet, "/", nil, http.StatusUnauthorized)
	resp, data := d.do(http.MethodGet, "/", nil, "Authorization", "Bearer secret-root")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /: %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	var body map[string]any
	if err := jsonUnmarshal(data, &body); err != nil {
		t.Fatalf("GET /: %s: %v", data, err)
	}
	for _, k := range []string{"message", "documentation", "description", "name", "version"} {
		if s, _ := body[k].(string); s == "" {
			t.Errorf("GET /: %q is not a non-empty string in %s", k, data)
		}
	}
	if body["name"] != "sandbox-api" || !strings.HasPrefix(body["documentation"].(string), "https://") {
		t.Errorf("GET /: %s", data)
	}
	head, hb := d.do(http.MethodHead, "/", nil, "Authorization", "Bearer secret-root")
	if head.StatusCode != http.StatusOK || len(hb) != 0 {
		t.Errorf("HEAD /: %d with %d body bytes", head.StatusCode, len(hb))
	}
}
