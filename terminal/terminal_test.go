package terminal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// guard bounds every wait: it only catches hangs (the tests' one policy,
// testsupport.HangGuard).
const guard = testsupport.HangGuard

func newTestManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	t.Setenv("SHELL", "/bin/sh")
	m := NewManager(cfg)
	t.Cleanup(m.Close)
	return m
}

// readUntil collects a client's output until it contains want.
func readUntil(t *testing.T, c *Client, want string) string {
	t.Helper()
	var got bytes.Buffer
	deadline := time.After(guard)
	for !strings.Contains(got.String(), want) {
		select {
		case p, ok := <-c.Output():
			if !ok {
				t.Fatalf("output closed before %q; got %q", want, got.String())
			}
			got.Write(p)
		case <-deadline:
			t.Fatalf("no %q in %q", want, got.String())
		}
	}
	return got.String()
}

func attach(t *testing.T, m *Manager, opts Options) (*Session, *Client) {
	t.Helper()
	s, c, err := m.Attach(opts)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return s, c
}

func TestReattachReplaysScrollback(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c := attach(t, m, Options{ID: "a"})
	// The marker is built by the shell so that the echoed input alone
	// cannot match.
	if err := s.Write(context.Background(), []byte("echo mark-$((40+2))\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "mark-42")
	c.Detach()
	for range c.Output() { // closed by Detach: this only drains
	}

	s2, c2 := attach(t, m, Options{ID: "a"})
	if s2 != s {
		t.Fatal("reattaching started a new session")
	}
	select {
	case p := <-c2.Output():
		if !strings.Contains(string(p), "mark-42") {
			t.Fatalf("replay %q lacks the earlier output", p)
		}
	case <-time.After(guard):
		t.Fatal("no replay")
	}
}

func TestResizeSeenByStty(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c := attach(t, m, Options{Cols: 100, Rows: 30})
	if err := s.Write(context.Background(), []byte("stty size\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "30 100")
	if err := s.Resize(132, 43); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []byte("stty size\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "43 132")
	if info := s.Info(); info.Cols != 132 || info.Rows != 43 {
		t.Fatalf("info size %dx%d", info.Cols, info.Rows)
	}
}

func TestExitClosesEveryClient(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c1 := attach(t, m, Options{ID: "x"})
	_, c2 := attach(t, m, Options{ID: "x"})
	if err := s.Write(context.Background(), []byte("exit\n")); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*Client{c1, c2} {
		deadline := time.After(guard)
	drain:
		for {
			select {
			case _, ok := <-c.Output():
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("client %d still open after exit", i)
			}
		}
		if c.Dropped() {
			t.Fatalf("client %d reported as dropped", i)
		}
	}
	<-s.Done()
	if _, ok := m.Get("x"); ok {
		t.Fatal("ended session still listed")
	}
}

func TestSeveralClientsSeeOutput(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c1 := attach(t, m, Options{ID: "multi"})
	_, c2 := attach(t, m, Options{ID: "multi"})
	if n := len(m.List()); n != 1 {
		t.Fatalf("%d sessions listed, want 1", n)
	}
	if got := s.Info().Clients; got != 2 {
		t.Fatalf("%d clients, want 2", got)
	}
	if err := s.Write(context.Background(), []byte("echo both-$((1+1))\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c1, "both-2")
	readUntil(t, c2, "both-2")
}

func TestLaggingClientIsDropped(t *testing.T) {
	const queue = 8
	m := newTestManager(t, Config{ClientQueue: queue})
	s, slow := attach(t, m, Options{ID: "lag"})
	_, fast := attach(t, m, Options{ID: "lag"})
	// The slow client never reads; the fast one must still get everything.
	// Each step's output comes after the fast client read the previous
	// step's, so it is a chunk of its own however the machine is loaded:
	// after more steps than the queue holds, the slow client has lagged
	// too far, while the fast one never has more than a step (its input's
	// echo, the output, the prompt) queued.
	for i := range 3 * queue {
		if err := s.Write(context.Background(), []byte(fmt.Sprintf("echo step-$((%d+1)).\n", i))); err != nil {
			t.Fatal(err)
		}
		readUntil(t, fast, fmt.Sprintf("step-%d.", i+1))
	}
	deadline := time.After(guard)
	for {
		select {
		case _, ok := <-slow.Output():
			if !ok {
				if !slow.Dropped() {
					t.Fatal("slow client closed but not marked dropped")
				}
				return
			}
		case <-deadline:
			t.Fatal("slow client never dropped")
		}
	}
}

func TestIdleSessionEnds(t *testing.T) {
	m := newTestManager(t, Config{IdleTimeout: 100 * time.Millisecond})
	s, c := attach(t, m, Options{})
	c.Detach()
	select {
	case <-s.Done():
	case <-time.After(guard):
		t.Fatal("idle session still running")
	}
}

func TestCloseSession(t *testing.T) {
	m := newTestManager(t, Config{})
	s, _ := attach(t, m, Options{ID: "c"})
	if err := m.CloseSession("c"); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	if err := m.CloseSession("c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second close: %v, want ErrNotFound", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	m := newTestManager(t, Config{})
	for _, opts := range []Options{
		{Shell: "/no/such/shell"},
		{WorkingDir: "/no/such/dir"},
	} {
		if _, _, err := m.Attach(opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", opts, err)
		}
	}
}

func TestRing(t *testing.T) {
	for _, tc := range []struct {
		size   int
		writes []string
		want   string
	}{
		{4, []string{"ab"}, "ab"},
		{4, []string{"ab", "cd", "ef"}, "cdef"},
		{4, []string{"abcdefg"}, "defg"},
		{4, []string{"a", "bcdef"}, "cdef"},
	} {
		r := newRing(tc.size)
		for _, w := range tc.writes {
			r.Write([]byte(w))
		}
		if got := string(r.Bytes()); got != tc.want {
			t.Errorf("%v into %d: %q, want %q", tc.writes, tc.size, got, tc.want)
		}
	}
}

// TestLateOutputReachesClientsAfterExit: on a loaded machine the pump may
// read the shell's last output long after the shell exited. Nobody else
// holds the terminal, so the session waits for it before closing clients.
func TestLateOutputReachesClientsAfterExit(t *testing.T) {
	m := newTestManager(t, Config{})
	m.tuning = sessionTuning{beforeOutput: func() { time.Sleep(time.Second) }, lateOutput: time.Hour} // far past exitGrace
	s, c := attach(t, m, Options{ID: "late"})
	if err := s.Write(context.Background(), []byte("echo last-$((6*7)); exit\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "last-42")
	<-s.Done()
}

// TestBackgroundChildDoesNotHoldTheSession: a child left running with the
// terminal open ends the session after the exit grace: were it not seen,
// the session would wait the hour given to late output.
func TestBackgroundChildDoesNotHoldTheSession(t *testing.T) {
	m := newTestManager(t, Config{})
	m.tuning.lateOutput = time.Hour
	s, _ := attach(t, m, Options{ID: "bg"})
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if err := s.Write(context.Background(), []byte("sleep 100 & echo $! > "+pidFile+"; exit\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(guard):
		t.Fatal("the session waited for the background child")
	}
}

// The daemon's reaper of orphans learns of each new shell, and of no
// shell twice: a reattach starts none.
func TestShellStartedOncePerNewShell(t *testing.T) {
	var started atomic.Int32
	m := newTestManager(t, Config{ShellStarted: func() { started.Add(1) }})
	steps := []struct {
		id   string
		want int32
	}{
		{"a", 1},
		{"a", 1}, // the same session again
		{"b", 2},
	}
	for _, step := range steps {
		_, c := attach(t, m, Options{ID: step.id})
		c.Detach()
		if got := started.Load(); got != step.want {
			t.Fatalf("after attaching %q: ShellStarted called %d times, want %d", step.id, got, step.want)
		}
	}
}
