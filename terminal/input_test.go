package terminal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestWriteGivesUpWhenItsClientGoes: input the shell does not read fills
// the PTY and the write waits; once its context ends (the websocket went
// away) it returns instead of waiting for as long as the shell is busy,
// and the next writer is not affected.
func TestWriteGivesUpWhenItsClientGoes(t *testing.T) {
	m := newTestManager(t, Config{})
	s, c := attach(t, m, Options{ID: "busy"})
	if err := s.Write(context.Background(), []byte("sleep 1000\n")); err != nil {
		t.Fatal(err)
	}
	sleeper := 0
	eventually(t, "the shell runs sleep", func() bool {
		for _, kid := range testsupport.ChildrenOf(s.pid) {
			if comm, err := os.ReadFile("/proc/" + strconv.Itoa(kid) + "/comm"); err == nil && string(comm) == "sleep\n" {
				sleeper = kid
			}
		}
		return sleeper != 0
	})

	// Comment lines: harmless once the shell reads them after all.
	flood := bytes.Repeat([]byte("# filler line\n"), (1<<20)/14)
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan error, 1)
	go func() { returned <- s.Write(ctx, flood) }()
	eventually(t, "the PTY full of unread input", func() bool {
		select {
		case err := <-returned:
			t.Fatalf("1 MiB of input the shell does not read was taken whole (%v)", err)
		default:
		}
		return !masterWritable(t, s)
	})
	cancel()
	select {
	case err := <-returned:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled write: %v, want context.Canceled", err)
		}
	case <-time.After(guard):
		t.Fatal("the write still waits for the busy shell after its context ended")
	}

	// The shell reads again: a new write goes through, with no deadline
	// left over from the cancelled one.
	_ = syscall.Kill(sleeper, syscall.SIGKILL)
	if err := s.Write(context.Background(), []byte("\necho back-$((5*5))\n")); err != nil {
		t.Fatalf("write after the cancelled one: %v", err)
	}
	readUntil(t, c, "back-25")
}

// masterWritable tells whether the PTY takes more input now.
func masterWritable(t *testing.T, s *Session) bool {
	t.Helper()
	rc, err := s.tty.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	n, perr := 0, error(nil)
	if err := rc.Control(func(fd uintptr) {
		for { // a signal to this thread (the runtime's preemption, SIGCHLD) is no answer
			n, perr = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, 0)
			if !errors.Is(perr, unix.EINTR) {
				return
			}
		}
	}); err != nil || perr != nil {
		t.Fatal(err, perr)
	}
	return n > 0
}
