package main

// Black-box tests of the /terminal API: websockets over real HTTP to the
// real daemon.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// termConn is one websocket to /terminal/ws.
type termConn struct {
	t    *testing.T
	conn *websocket.Conn
	seen strings.Builder // all output so far
}

func dialTerminal(t *testing.T, d *daemon, query string) *termConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	url := "ws" + strings.TrimPrefix(d.url, "http") + "/terminal/ws?" + query
	conn, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("dial status %d", resp.StatusCode)
	}
	conn.SetReadLimit(4 << 20)
	tc := &termConn{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	return tc
}

func (tc *termConn) send(msg map[string]any) {
	tc.t.Helper()
	data, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := tc.conn.Write(ctx, websocket.MessageText, data); err != nil {
		tc.t.Fatalf("send %s: %v", data, err)
	}
}

func (tc *termConn) input(s string) { tc.send(map[string]any{"type": "input", "data": s}) }

// waitFor reads output messages until the whole output contains want; it
// returns the close error if the socket closes first.
func (tc *termConn) waitFor(want string) error {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	for !strings.Contains(tc.seen.String(), want) {
		typ, data, err := tc.conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			tc.t.Fatalf("unexpected binary frame")
		}
		var msg struct{ Type, Data string }
		if err := json.Unmarshal(data, &msg); err != nil || msg.Type != "output" {
			tc.t.Fatalf("bad message %s (%v)", data, err)
		}
		tc.seen.WriteString(msg.Data)
	}
	return nil
}

func (tc *termConn) mustSee(want string) {
	tc.t.Helper()
	if err := tc.waitFor(want); err != nil {
		tc.t.Fatalf("waiting for %q: %v; output so far %q", want, err, tc.seen.String())
	}
}

func TestTerminalWebsocket(t *testing.T) {
	d := startDaemon(t, daemonOptions{env: []string{"SHELL=/bin/sh"}})
	wd := t.TempDir()

	a := dialTerminal(t, d, "sessionId=t1&cols=90&rows=20&workingDir="+wd)
	a.input("stty size\n")
	a.mustSee("20 90")
	a.send(map[string]any{"type": "resize", "cols": 120, "rows": 40})
	a.input("stty size; pwd\n")
	a.mustSee("40 120")
	a.mustSee(wd)
	// Computed by the shell, so the echoed input cannot match.
	a.input("echo out-$((6*7))\n")
	a.mustSee("out-42")

	var list []struct {
		ID         string `json:"id"`
		WorkingDir string `json:"workingDir"`
		Cols, Rows int
	}
	d.doJSON("GET", "/terminal/sessions", nil, http.StatusOK, &list)
	if len(list) != 1 || list[0].ID != "t1" || list[0].Cols != 120 || list[0].Rows != 40 {
		t.Fatalf("sessions %+v", list)
	}

	// Detach and reattach: the replay brings back the earlier output.
	a.conn.Close(websocket.StatusNormalClosure, "bye")
	b := dialTerminal(t, d, "sessionId=t1")
	b.mustSee("out-42")

	// A second client sees the same output.
	c := dialTerminal(t, d, "sessionId=t1")
	b.input("echo both-$((2+3))\n")
	b.mustSee("both-5")
	c.mustSee("both-5")

	// When the shell exits, every socket gets a normal close frame without
	// writing anything more.
	b.input("exit\n")
	for name, tc := range map[string]*termConn{"b": b, "c": c} {
		err := tc.waitFor("never-printed")
		if status := websocket.CloseStatus(err); status != websocket.StatusNormalClosure {
			t.Fatalf("client %s: %v (status %d), want a normal close", name, err, status)
		}
	}
	d.doJSON("GET", "/terminal/sessions", nil, http.StatusOK, &list)
	if len(list) != 0 {
		t.Fatalf("ended session still listed: %+v", list)
	}
}

func TestTerminalSessionsAPI(t *testing.T) {
	d := startDaemon(t, daemonOptions{env: []string{"SHELL=/bin/sh"}})
	d.wantError("DELETE", "/terminal/sessions/nope", nil, http.StatusNotFound)
	d.wantError("GET", "/terminal/ws?cols=0", nil, http.StatusBadRequest)
	// Bad session options in a real handshake are a JSON 400 too, before
	// the upgrade.
	handshake := []string{"Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	resp, body := d.do("GET", "/terminal/ws?workingDir=/no/such/dir", nil, handshake...)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) {
		t.Errorf("bad workingDir in a handshake: %d %s, want a JSON 400", resp.StatusCode, body)
	}
	// A plain GET is refused before any shell starts for it.
	d.wantError("GET", "/terminal/ws?sessionId=plain-get", nil, http.StatusUpgradeRequired)
	var sessions []map[string]any
	d.doJSON("GET", "/terminal/sessions", nil, http.StatusOK, &sessions)
	if len(sessions) != 0 {
		t.Errorf("sessions after refused requests: %v, want none", sessions)
	}

	a := dialTerminal(t, d, "sessionId=del")
	a.input("echo up-$((1+1))\n")
	a.mustSee("up-2")
	d.doJSON("DELETE", "/terminal/sessions/del", nil, http.StatusOK, nil)
	err := a.waitFor("never-printed")
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after DELETE: %v, want a normal close", err)
	}
}

func TestTerminalDisabled(t *testing.T) {
	d := startDaemon(t, daemonOptions{env: []string{"DISABLE_TERMINAL=true"}})
	for _, path := range []string{"/terminal/ws", "/terminal/sessions"} {
		resp, _ := d.do("GET", path, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestTerminalPage(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	resp, body := d.do("GET", "/terminal", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /terminal: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	if !strings.Contains(page, "terminal/assets/xterm.js") {
		// A build without the assets explains how to bundle them.
		if !strings.Contains(page, "go generate ./terminal/webui") {
			t.Fatalf("page neither loads xterm.js nor explains bundling: %s", testsupport.Truncate(body))
		}
		return
	}
	for _, name := range []string{"xterm.js", "xterm.css", "addon-fit.js"} {
		resp, body := d.do("GET", "/terminal/assets/"+name, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("asset %s: status %d, %d bytes", name, resp.StatusCode, len(body))
		}
	}
	d.wantError("GET", "/terminal/assets/nope.js", nil, http.StatusNotFound)
}
