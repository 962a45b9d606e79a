package exitwait

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// startCat starts a cat that exits when the returned writer is closed.
func startCat(t *testing.T) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stdin
}

// catHandle starts a cat (startCat) and opens its handle, closed with the
// test. Pidfds are required here, as TestWaitingHoldsNoThreads requires
// them: a kernel without them fails rather than skips.
func catHandle(t *testing.T) (*exec.Cmd, io.WriteCloser, *Handle) {
	t.Helper()
	cmd, stdin := startCat(t)
	h, err := Open(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("open a pidfd: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return cmd, stdin, h
}

// waitAsync runs h.Wait(ctx) and hands back its result.
func waitAsync(h *Handle, ctx context.Context) <-chan error {
	res := make(chan error, 1)
	go func() { res <- h.Wait(ctx) }()
	return res
}

// A stopped wait reaps nothing and leaves the handle ready to wait again;
// the wait that sees the exit does not reap either, and Reap does.
func TestHandleWaitStopsWithoutReaping(t *testing.T) {
	cmd, stdin, h := catHandle(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := waitAsync(h, ctx)
	cancel()
	if err := testsupport.Receive(t, res, "a stopped Wait to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped Wait = %v, want context.Canceled", err)
	}
	if s := testsupport.ProcState(cmd.Process.Pid); s == 'Z' || s == 0 {
		t.Fatalf("cat's state %q after a stopped Wait, want it running", s)
	}
	res = waitAsync(h, context.Background())
	_ = stdin.Close()
	if err := testsupport.Receive(t, res, "Wait to return once cat exited"); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if s := testsupport.ProcState(cmd.Process.Pid); s != 'Z' {
		t.Fatalf("cat's state %q after Wait, want a zombie (Z): Wait must not reap", s)
	}
	h.Reap()
	if s := testsupport.ProcState(cmd.Process.Pid); s != 0 {
		t.Fatalf("cat's state %q after Reap, want it gone", s)
	}
}

// A handle adopted from another descriptor of the same pidfd (what the
// next image of the daemon gets across its exec) waits for and reaps the
// same child, on a close-on-exec copy of its own.
func TestHandleAdoptedWaitsForTheSameChild(t *testing.T) {
	cmd, stdin, first := catHandle(t)
	rc, err := first.File().SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	inherited, derr := -1, error(nil)
	_ = rc.Control(func(fd uintptr) { inherited, derr = unix.Dup(int(fd)) })
	if derr != nil {
		t.Fatal(derr)
	}
	f := os.NewFile(uintptr(inherited), "inherited pidfd") // dup(2): not close-on-exec, as after the exec
	_ = first.Close()
	h, err := Adopt(cmd.Process.Pid, f)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	defer h.Close()
	if rc, err = h.File().SyscallConn(); err != nil {
		t.Fatal(err)
	}
	flags, ferr := 0, error(nil)
	_ = rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFD, 0) })
	if ferr != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("adopted pidfd flags %#x (%v), want close-on-exec", flags, ferr)
	}
	res := waitAsync(h, context.Background())
	_ = stdin.Close()
	if err := testsupport.Receive(t, res, "the adopted handle's Wait to return"); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	h.Reap()
	if s := testsupport.ProcState(cmd.Process.Pid); s != 0 {
		t.Fatalf("cat's state %q after Reap, want it gone", s)
	}
}

// A child that someone else reaped (the daemon's reaper of orphans) reads
// as exited, and Reap does not block on it.
func TestHandleChildReapedElsewhere(t *testing.T) {
	cmd, stdin, h := catHandle(t)
	_ = stdin.Close()
	_ = cmd.Wait()
	if err := testsupport.Receive(t, waitAsync(h, context.Background()), "Wait of a reaped child"); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	reaped := make(chan struct{})
	go func() { h.Reap(); close(reaped) }()
	testsupport.Receive(t, reaped, "Reap of a child reaped elsewhere to return")
}

// Adopt refuses a descriptor that is no pidfd.
func TestAdoptRefusesOtherDescriptors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if h, err := Adopt(os.Getpid(), r); err == nil {
		_ = h.Close()
		t.Fatal("Adopt took a pipe for a pidfd")
	}
}

// A hint while the child runs makes Wait look again, not return: only the
// exit (or ctx) ends it, however many hints come, before or during it. The
// child's state when Wait returns tells: a hint that ended it would find cat
// still running.
func TestHandleHintDoesNotEndTheWait(t *testing.T) {
	cmd, stdin, h := catHandle(t)
	h.Hint() // between waits: the next Wait looks once more
	returned := make(chan byte, 1)
	go func() {
		err := h.Wait(context.Background())
		s := testsupport.ProcState(cmd.Process.Pid)
		if err != nil {
			s = '!'
		}
		returned <- s
	}()
	for range 100 {
		h.Hint()
	}
	_ = stdin.Close()
	if s := testsupport.Receive(t, returned, "Wait to return once cat exited"); s != 'Z' {
		t.Fatalf("Wait returned with cat in state %q, want a zombie (Z): a hint ended the wait", s)
	}
	h.Reap()
}
