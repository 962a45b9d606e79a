package terminal

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// children lists the pids of this test process's children.
func children(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue // the thread ended meanwhile
		}
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}

// fdsTo counts this process's descriptors whose target contains what.
func fdsTo(t *testing.T, what string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.Contains(link, what) {
			n++
		}
	}
	return n
}

func openFDs(t *testing.T) int { return fdsTo(t, "") }

// eventually polls cond until it holds, under the hang guard.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testsupport.Until(t, what, cond)
}

func ended(s *Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// detachAll detaches c and drains what it had queued.
func detachAll(c *Client) {
	c.Detach()
	for range c.Output() {
	}
}

// TestCapEvictsTheLongestDetached: at the bound, a new session ends the
// session detached the longest, not the oldest one, nor an attached one.
func TestCapEvictsTheLongestDetached(t *testing.T) {
	m := newTestManager(t, Config{MaxSessions: 3})
	a, ca := attach(t, m, Options{ID: "a"})
	b, cb := attach(t, m, Options{ID: "b"})
	c, _ := attach(t, m, Options{ID: "c"})
	detachAll(cb) // b first: b is detached the longest, though a is older
	detachAll(ca)

	d, _ := attach(t, m, Options{ID: "d"})
	if !ended(b) {
		t.Fatal("the session detached the longest is still running")
	}
	for _, s := range []*Session{a, c, d} {
		if ended(s) {
			t.Fatalf("session %s ended, want only b evicted", s.ID())
		}
	}
	if _, ok := m.Get("b"); ok {
		t.Fatal("the evicted session is still listed")
	}
	if n := len(m.List()); n != 3 {
		t.Fatalf("%d sessions listed, want 3", n)
	}

	// Reattaching to the evicted id is a new session: it evicts a, the
	// only one left detached.
	b2, _ := attach(t, m, Options{ID: "b"})
	if b2 == b || ended(b2) {
		t.Fatal("reattaching to an evicted id did not start a fresh shell")
	}
	if !ended(a) {
		t.Fatal("a, detached, was not evicted for the new session")
	}
}

// TestCapRefusesWhenEverySessionIsAttached: with every session in use, a
// new one fails with ErrTooManySessions and nothing is started for it (no
// shell, no PTY); reattaching to a live session still works.
func TestCapRefusesWhenEverySessionIsAttached(t *testing.T) {
	m := newTestManager(t, Config{MaxSessions: 2})
	x, _ := attach(t, m, Options{ID: "x"})
	attach(t, m, Options{ID: "y"})
	shells, ptys := len(children(t)), fdsTo(t, "ptmx")

	_, _, err := m.Attach(Options{ID: "z"})
	if !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("third session: %v, want ErrTooManySessions", err)
	}
	if got := len(children(t)); got != shells {
		t.Fatalf("%d children after the refusal, want %d: a shell was started", got, shells)
	}
	if got := fdsTo(t, "ptmx"); got != ptys {
		t.Fatalf("%d PTY masters open after the refusal, want %d", got, ptys)
	}
	if _, ok := m.Get("z"); ok {
		t.Fatal("the refused session is listed")
	}
	if ended(x) {
		t.Fatal("an attached session was evicted")
	}

	again, c, err := m.Attach(Options{ID: "x"})
	if err != nil || again != x {
		t.Fatalf("reattach at the bound: %v (same session: %v)", err, again == x)
	}
	if err := x.Write(context.Background(), []byte("echo still-$((20+1))\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "still-21")
}

// TestBadOptionsEvictNothing: options that cannot start a shell are refused
// before any session is evicted for them.
func TestBadOptionsEvictNothing(t *testing.T) {
	m := newTestManager(t, Config{MaxSessions: 1})
	s, c := attach(t, m, Options{ID: "keep"})
	detachAll(c)
	if _, _, err := m.Attach(Options{WorkingDir: "/no/such/dir"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad options: %v, want ErrInvalid", err)
	}
	if ended(s) {
		t.Fatal("a session was evicted for options that were refused")
	}
}

// TestConnectCloseCyclesLeakNothing: sessions opened and left in a loop stay
// within the bound, leave no zombie, and once the manager is closed every
// goroutine, descriptor and shell they had is gone.
func TestConnectCloseCyclesLeakNothing(t *testing.T) {
	const max, cycles = 4, 40
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	t.Setenv("SHELL", "/bin/sh")
	m := NewManager(Config{MaxSessions: max})
	t.Cleanup(m.Close) // if the test stops early; closing twice is harmless
	for range cycles {
		_, c := attach(t, m, Options{})
		detachAll(c)
		if n := len(children(t)); n > max {
			t.Fatalf("%d shells running, want at most %d", n, max)
		}
	}
	if n := len(m.List()); n != max {
		t.Fatalf("%d sessions after %d cycles, want %d", n, cycles, max)
	}
	m.Close()
	eventually(t, "every shell reaped (no zombie left)", func() bool { return len(children(t)) == 0 })
	eventually(t, "goroutines back to where they were", func() bool { return runtime.NumGoroutine() <= goroutines })
	if got := openFDs(t); got > fds {
		t.Fatalf("%d descriptors open, %d before the cycles", got, fds)
	}
}
