package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The tests of this file play both images of the daemon in one process:
// Resume in the same process is what the next image does after the exec,
// on the same descriptors (an exec keeps the descriptor numbers; here they
// are the very same files) and the same children. The old Manager is then
// left alone, as an exec would leave it.

// oldImage is a Manager that a test hands over; it is closed at the end
// only if the test failed before the hand-over.
type oldImage struct {
	*Manager
	handedOver bool
}

func newOldImage(t *testing.T, cfg Config) *oldImage {
	t.Helper()
	t.Setenv("SHELL", "/bin/sh")
	old := &oldImage{Manager: NewManager(cfg)}
	t.Cleanup(func() {
		if !old.handedOver {
			old.Close()
		}
	})
	return old
}

// freeze freezes old; ctx is a background one: the tests' clients detach.
func (old *oldImage) freeze(t *testing.T) handover.Frozen {
	t.Helper()
	f, err := old.Freeze(context.Background())
	if err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	return f
}

// resume is the next image: a Manager rebuilt from f.
func (old *oldImage) resume(t *testing.T, cfg Config, f handover.Frozen) *Manager {
	t.Helper()
	next, err := Resume(cfg, f)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	old.handedOver = true
	t.Cleanup(next.Close)
	return next
}

// owner plays the server's handler of client c: it reads until the output
// closes, then detaches, and reports whether the client was handed over.
func owner(c *Client) <-chan bool {
	res := make(chan bool, 1)
	go func() {
		for range c.Output() {
		}
		res <- c.HandedOver()
		c.Detach()
	}()
	return res
}

// decodeState reads the state Freeze wrote.
func decodeState(t *testing.T, f handover.Frozen) frozenState {
	t.Helper()
	var st frozenState
	if err := json.Unmarshal(f.State, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// stateOf is the frozen session id.
func stateOf(t *testing.T, st frozenState, id string) frozenSession {
	t.Helper()
	for _, s := range st.Sessions {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no session %s in the state", id)
	return frozenSession{}
}

func write(t *testing.T, s *Session, input string) {
	t.Helper()
	if err := s.Write(context.Background(), []byte(input)); err != nil {
		t.Fatal(err)
	}
}

// collect reads c's output until it contains want, and returns all of it.
func collect(t *testing.T, c *Client, want string) string {
	t.Helper()
	return readUntil(t, c, want)
}

// pidState is the one-letter state of pid from /proc (0: no such process).
func pidState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2]
	}
	return 0
}

// A session goes on in the next image: the same shell, its replay the
// output from before the switch followed by what the shell wrote during
// it, input typed afterwards reaching the shell; its attached client was
// told to reconnect.
func TestHandoverKeepsShellReplayAndInput(t *testing.T) {
	dir := t.TempDir()
	fifo, wrote := filepath.Join(dir, "fifo"), filepath.Join(dir, "wrote")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	old := newOldImage(t, Config{})
	s, c := attach(t, old.Manager, Options{ID: "a", Cols: 100, Rows: 30})
	pid := s.Info().PID
	write(t, s, "echo before-$((1+1))\n")
	readUntil(t, c, "before-2")
	// The shell's next output waits for the test, which lets it go once
	// the session is frozen: it is written while nobody reads the PTY.
	write(t, s, "echo during-$(cat "+fifo+"); touch "+wrote+"\n")
	readUntil(t, c, "touch") // the echo of the line: the shell has it
	handed := owner(c)

	f := old.freeze(t)
	if !testsupport.Receive(t, handed, "the attached client to end") {
		t.Fatal("the client ended by Freeze does not say it was handed over")
	}
	if err := os.WriteFile(fifo, []byte("4"), 0o600); err != nil {
		t.Fatal(err)
	}
	testsupport.Until(t, "the shell to write during the switch", func() bool {
		_, err := os.Stat(wrote)
		return err == nil
	})
	before := stateOf(t, decodeState(t, f), "a").Scrollback

	next := old.resume(t, Config{}, f)
	s2, ok := next.Get("a")
	if !ok {
		t.Fatal("session a not resumed")
	}
	if info := s2.Info(); info.PID != pid || info.Cols != 100 || info.Rows != 30 || info.Clients != 0 {
		t.Fatalf("resumed session %+v, want pid %d, 100x30, no client", info, pid)
	}
	_, c2 := attach(t, next, Options{ID: "a"})
	got := collect(t, c2, "during-4")
	if !strings.HasPrefix(got, string(before)) {
		t.Fatalf("replay after the switch %q does not start with the replay before it %q", got, before)
	}
	write(t, s2, "echo after-$((3+3))\n")
	readUntil(t, c2, "after-6")
}

// A shell that exits during the switch is seen as ended after Resume, and
// reaped, whether its exit status is still there or someone else (the
// daemon's reaper of orphans) took it.
func TestHandoverShellExitedDuringTheSwitch(t *testing.T) {
	for _, reapedElsewhere := range []bool{false, true} {
		t.Run("reaped elsewhere "+strconv.FormatBool(reapedElsewhere), func(t *testing.T) {
			old := newOldImage(t, Config{})
			s, c := attach(t, old.Manager, Options{ID: "x"})
			pid := s.Info().PID
			detachAll(c)
			f := old.freeze(t)

			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if reapedElsewhere {
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
					t.Fatal(err)
				}
			} else {
				testsupport.Until(t, "the shell to be a zombie", func() bool { return pidState(pid) == 'Z' })
			}

			next := old.resume(t, Config{}, f)
			s2, ok := next.Get("x")
			if ok {
				testsupport.Receive(t, s2.Done(), "the resumed session of an exited shell to end")
			}
			testsupport.Until(t, "the ended session to be forgotten", func() bool { _, ok := next.Get("x"); return !ok })
			if st := pidState(pid); st != 0 {
				t.Fatalf("shell state %q after its session ended, want it reaped", st)
			}
		})
	}
}

// Detached sessions keep what was left of their idle time and their order
// of eviction; a session whose client Freeze ended gets its idle time in
// full, and is the last detached.
func TestHandoverKeepsIdleTimeAndEvictionOrder(t *testing.T) {
	const idle = time.Hour
	cfg := Config{IdleTimeout: idle, MaxSessions: 3}
	old := newOldImage(t, cfg)
	a, ca := attach(t, old.Manager, Options{ID: "a"})
	b, cb := attach(t, old.Manager, Options{ID: "b"})
	c, cc := attach(t, old.Manager, Options{ID: "c"})
	detachAll(cb) // b is detached the longest, though a is older
	detachAll(ca)
	handed := owner(cc)
	f := old.freeze(t)
	testsupport.Receive(t, handed, "c's client to end")

	st := decodeState(t, f)
	for _, id := range []string{"a", "b"} {
		if left := stateOf(t, st, id).IdleLeft; left == nil || *left <= 0 || *left > idle {
			t.Fatalf("session %s's idle time left %v, want some of %s", id, left, idle)
		}
	}
	if left := stateOf(t, st, "c").IdleLeft; left != nil {
		t.Fatalf("session c had a client: idle time left %v, want none (in full)", *left)
	}

	beforeResume := time.Now()
	next := old.resume(t, cfg, f)
	afterResume := time.Now()
	idleEnd := func(id string) time.Time {
		s, ok := next.Get(id)
		if !ok {
			t.Fatalf("session %s not resumed", id)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.idleEnd
	}
	if end, left := idleEnd("a"), *stateOf(t, st, "a").IdleLeft; end.After(afterResume.Add(left)) {
		t.Fatalf("a's idle end %v is past the time it had left (%s after %v)", end, left, afterResume)
	}
	if end := idleEnd("c"); end.Before(beforeResume.Add(idle)) {
		t.Fatalf("c's idle end %v, want the idle time in full from the resume (%v)", end, beforeResume.Add(idle))
	}

	// At the bound, new sessions evict b, then a, then c: the order they
	// were detached in.
	for _, want := range []string{"b", "a", "c"} {
		attach(t, next, Options{})
		if _, ok := next.Get(want); ok {
			t.Fatalf("session %s not evicted in turn", want)
		}
	}
	for _, s := range []*Session{a, b, c} {
		if st := pidState(s.pid); st != 0 && st != 'Z' {
			t.Fatalf("the shell of evicted session %s is still running (%q)", s.id, st)
		}
	}
}

// A detached session resumed with its idle time nearly spent ends by it in
// the next image.
func TestHandoverIdleSessionEndsAfterResume(t *testing.T) {
	cfg := Config{IdleTimeout: 100 * time.Millisecond}
	old := newOldImage(t, Config{IdleTimeout: time.Hour})
	_, c := attach(t, old.Manager, Options{ID: "i"})
	detachAll(c)
	next := old.resume(t, cfg, old.freeze(t))
	s, ok := next.Get("i")
	if !ok {
		t.Fatal("session not resumed")
	}
	testsupport.Receive(t, s.Done(), "the resumed idle session to end")
}

// Thaw goes on as before: the same session and shell, its replay with what
// was written while frozen, input reaching it, the descriptors that the
// switch made inheritable closed on exec again. While frozen, attaching
// and closing are refused with ErrFrozen.
func TestThawGoesOnAsBefore(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c := attach(t, m, Options{ID: "t"})
	write(t, s, "echo before-$((1+1))\n")
	readUntil(t, c, "before-2")
	handed := owner(c)
	f, err := m.Freeze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	testsupport.Receive(t, handed, "the attached client to end")
	if _, _, err := m.Attach(Options{ID: "t"}); !errors.Is(err, ErrFrozen) {
		t.Fatalf("Attach while frozen: %v, want ErrFrozen", err)
	}
	if err := m.CloseSession("t"); !errors.Is(err, ErrFrozen) {
		t.Fatalf("CloseSession while frozen: %v, want ErrFrozen", err)
	}
	// The switch clears close-on-exec before the exec it then abandons.
	for _, file := range f.Files {
		rc, err := file.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETFD, 0) })
	}
	// Input typed while frozen reaches the shell; its output waits in the
	// PTY.
	write(t, s, "echo during-$((2+2))\n")

	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	for _, file := range f.Files {
		// Through SyscallConn: Fd would make the file blocking for good.
		rc, err := file.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		flags, ferr := 0, error(nil)
		_ = rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFD, 0) })
		if ferr != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Fatalf("%s after Thaw: flags %#x (%v), want close-on-exec", file.Name(), flags, ferr)
		}
	}
	s2, c2 := attach(t, m, Options{ID: "t"})
	if s2 != s {
		t.Fatal("Thaw made a new session")
	}
	got := collect(t, c2, "during-4")
	if !strings.Contains(got, "before-2") {
		t.Fatalf("replay after Thaw %q lacks the output from before", got)
	}
	write(t, s, "echo after-$((3+3))\n")
	readUntil(t, c2, "after-6")
	if err := m.CloseSession("t"); err != nil {
		t.Fatal(err)
	}
	testsupport.Receive(t, s.Done(), "the thawed session to end when closed")
}

// Resume refuses a state it cannot read, and leaves the descriptors as
// they were, for whoever goes on without it.
func TestResumeRefusesABadState(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, state := range map[string]string{
		"not json":         `{`,
		"another version":  `{"version": 99, "sessions": []}`,
		"missing a file":   `{"version": 1, "sessions": [{"id": "a", "pid": 1, "tty": 0, "pidfd": 5}]}`,
		"not a pidfd":      `{"version": 1, "sessions": [{"id": "a", "pid": 1, "tty": 0, "pidfd": 1}]}`,
		"a negative index": `{"version": 1, "sessions": [{"id": "a", "pid": 1, "tty": -1, "pidfd": 0}]}`,
	} {
		if _, err := Resume(Config{}, handover.Frozen{State: json.RawMessage(state), Files: []*os.File{r, w}}); err == nil {
			t.Errorf("%s: Resume accepted %s", name, state)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatalf("%s: the descriptors were closed by a failed Resume: %v", name, err)
		}
	}
}

// Freeze waits for the clients it ended to be detached only as long as its
// ctx lets it: a connection that does not close is cut by the exec.
func TestFreezeWaitsForClientsOnlyUntilCtxEnds(t *testing.T) {
	m := newTestManager(t, Config{})
	attach(t, m, Options{ID: "w"}) // its client is never detached
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
}
