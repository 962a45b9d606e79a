package main

// Black-box tests of what terminal sessions may cost the daemon: sessions
// opened and dropped in a loop must neither crash it under a pids limit nor
// grow its threads, descriptors or children, and a session past the bound
// is refused before anything is started for it.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/terminal"
)

// dialTerminalOnce opens a terminal websocket; its error tells the daemon's
// fate or its answer.
func dialTerminalOnce(d *daemon, query string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(d.url, "http")+"/terminal/ws?"+query, nil)
	if err == nil {
		return conn, nil
	}
	select {
	case <-d.exited:
		return nil, fmt.Errorf("dial %s: %w; the daemon has died (%v)", query, err, d.exitErr)
	default:
	}
	if resp != nil {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("dial %s: %w (status %d %s)", query, err, resp.StatusCode, b)
	}
	return nil, fmt.Errorf("dial %s: %w", query, err)
}

// ptyMasters counts the PTY masters the daemon holds open.
func ptyMasters(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink(dir + "/" + fd.Name()); err == nil && strings.HasSuffix(link, "ptmx") {
			n++
		}
	}
	return n
}

// zombiesOf lists the children of pid that have exited but were not reaped.
func zombiesOf(pid int) []int {
	var out []int
	for _, kid := range testsupport.ChildrenOf(pid) {
		if state, _, _, ok := procStat(kid); ok && state == 'Z' {
			out = append(out, kid)
		}
	}
	return out
}

type termSession struct {
	ID      string `json:"id"`
	PID     int    `json:"pid"`
	Clients int    `json:"clients"`
}

func terminalSessions(d *daemon) map[string]termSession {
	var list []termSession
	d.doJSON(http.MethodGet, "/terminal/sessions", nil, http.StatusOK, &list)
	out := map[string]termSession{}
	for _, s := range list {
		out[s.ID] = s
	}
	return out
}

// TestTerminalConnectCloseCycles: 200 terminal websockets opened and
// dropped, the daemon in a pids cgroup as in a container. Each used to
// leave a shell, a PTY and two blocked OS threads for the 30-minute idle
// timeout: the daemon died ("failed to create new OS thread") once the
// limit was reached. Now it stays up, its threads stay flat, and the
// sessions left are bounded, with no zombie and no descriptor left over.
func TestTerminalConnectCloseCycles(t *testing.T) {
	const cycles = 200
	// The sessions allowed by default, plus room for the daemon's own
	// threads and the short-lived children of the shells' login profile.
	// Today's sessions cost one pid each (the shell); at three each, the
	// daemon ran out after about 40.
	const pidsMax = terminal.DefaultMaxSessions + 60
	cg, err := newPidsCgroup(t, pidsMax)
	if err != nil {
		t.Logf("no pids cgroup (%v): only threads, children and descriptors are checked", err)
		cg = nil
	}
	d := startDaemon(t, daemonOptions{env: []string{"SHELL=/bin/sh"}})
	if cg != nil {
		if err := cg.add(d.pid); err != nil {
			t.Fatal(err)
		}
	}
	threads, fds := countThreads(t, d.pid), countFDs(t, d.pid)

	for i := range cycles {
		conn, err := dialTerminalOnce(d, "cols=80&rows=24")
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		// The prompt: the shell has read its login profile (whose children
		// are gone) and waits, as when a person connects and walks away.
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		if _, _, err := conn.Read(ctx); err != nil {
			t.Fatalf("cycle %d: no prompt: %v", i, err)
		}
		cancel()
		conn.CloseNow()
		if i%50 == 49 {
			t.Logf("after %d cycles: %d threads, %d children", i+1, countThreads(t, d.pid), len(testsupport.ChildrenOf(d.pid)))
		}
	}

	d.doJSON(http.MethodGet, "/health", nil, http.StatusOK, nil)
	sessions := terminalSessions(d)
	if len(sessions) > terminal.DefaultMaxSessions {
		t.Errorf("%d sessions alive, want at most %d", len(sessions), terminal.DefaultMaxSessions)
	}
	testsupport.Eventually(t, func() (bool, string) {
		z := zombiesOf(d.pid)
		return len(z) == 0, fmt.Sprintf("zombie children %v", z)
	})
	if kids := testsupport.ChildrenOf(d.pid); len(kids) != len(sessions) {
		t.Errorf("%d children for %d sessions: %v", len(kids), len(sessions), kids)
	}
	// Go keeps idle the threads that blocking calls needed: a ceiling, far
	// below the two per session that blocking waits and reads took.
	threadsAfter := countThreads(t, d.pid)
	if threadsAfter > threads+16 {
		t.Errorf("threads grew from %d to %d over %d cycles", threads, threadsAfter, cycles)
	}
	// A session holds its PTY master, the pidfd it is waited through and
	// the one os/exec keeps.
	if fdsAfter := countFDs(t, d.pid); fdsAfter > fds+3*len(sessions)+16 {
		t.Errorf("descriptors grew from %d to %d with %d sessions alive", fds, fdsAfter, len(sessions))
	}
	if cg != nil {
		if n := cg.refused(t); n != 0 {
			t.Errorf("the pids limit (%d) refused %d forks or threads", pidsMax, n)
		}
		t.Logf("pids cgroup: max %d, peak %d", pidsMax, cg.peak())
	}
	t.Logf("%d cycles: threads %d → %d, %d sessions alive", cycles, threads, threadsAfter, len(sessions))
}

// TestTerminalSessionCap: with every session attached, a new one gets a
// JSON 503 and no shell or PTY is started for it; reattaching still works,
// and once a session is detached, a new one takes its place.
func TestTerminalSessionCap(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--terminal-max-sessions", "2"}, env: []string{"SHELL=/bin/sh"}})
	a := dialTerminal(t, d, "sessionId=a")
	b := dialTerminal(t, d, "sessionId=b")
	// Answers computed by the shells: both are up and idle.
	a.input("echo up-$((1+1))\n")
	a.mustSee("up-2")
	b.input("echo up-$((2+2))\n")
	b.mustSee("up-4")
	shells, ptys := len(testsupport.ChildrenOf(d.pid)), ptyMasters(t, d.pid)
	if shells != 2 || ptys != 2 {
		t.Fatalf("%d shells and %d PTY masters for 2 sessions", shells, ptys)
	}

	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(d.url, "http")+"/terminal/ws?sessionId=c", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("third session: %v (status %d), want 503", err, status)
	}
	body, _ := io.ReadAll(resp.Body)
	var answer struct{ Error string }
	if jsonUnmarshal(body, &answer) != nil || !strings.Contains(answer.Error, "too many terminal sessions") ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("503 answer %q (%s), want a JSON error", body, resp.Header.Get("Content-Type"))
	}
	if got := len(testsupport.ChildrenOf(d.pid)); got != shells {
		t.Errorf("%d shells after the refusal, want %d", got, shells)
	}
	if got := ptyMasters(t, d.pid); got != ptys {
		t.Errorf("%d PTY masters after the refusal, want %d", got, ptys)
	}
	if s := terminalSessions(d); len(s) != 2 {
		t.Errorf("sessions after the refusal: %v", s)
	}

	// Reattaching is no new session: it works at the bound, with the replay.
	again := dialTerminal(t, d, "sessionId=a")
	again.mustSee("up-2")

	// b detached: a new session ends it and takes its place.
	b.conn.Close(websocket.StatusNormalClosure, "bye")
	var bPID int
	testsupport.Eventually(t, func() (bool, string) {
		s := terminalSessions(d)
		bPID = s["b"].PID
		return s["b"].Clients == 0, fmt.Sprintf("b still attached: %v", s)
	})
	c := dialTerminal(t, d, "sessionId=c")
	c.input("echo up-$((3+3))\n")
	c.mustSee("up-6")
	s := terminalSessions(d)
	if _, ok := s["b"]; ok || len(s) != 2 {
		t.Errorf("sessions %v, want a and c", s)
	}
	if pidLive(bPID) {
		t.Errorf("b's shell (pid %d) still runs", bPID)
	}
	if got := len(testsupport.ChildrenOf(d.pid)); got != 2 {
		t.Errorf("%d shells, want 2", got)
	}
}
