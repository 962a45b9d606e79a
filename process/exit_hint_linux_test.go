package process

import (
	"context"
	"os/exec"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestExitHintIsNoExit: hints while the child runs (its output closed,
// say) make awaitExit look again but not return; it returns true once the
// child has exited, leaving the zombie to reap; a hint between waits is
// harmless.
func TestExitHintIsNoExit(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var w exitWait
	returned := make(chan byte, 1)
	go func() {
		exited := awaitExit(context.Background(), cmd.Process.Pid, &w)
		s := testsupport.ProcState(cmd.Process.Pid)
		if !exited {
			s = '!'
		}
		returned <- s
	}()
	waitInPlace(t, &w)
	for range 100 {
		w.hint()
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if s := testsupport.Receive(t, returned, "awaitExit to return after the child was killed"); s != 'Z' {
		t.Fatalf("awaitExit returned with the child in state %q, want a zombie (Z): a hint ended the wait", s)
	}
	w.hint()
	if err := cmd.Wait(); err == nil || cmd.ProcessState == nil {
		t.Fatalf("cmd.Wait after awaitExit: %v, want the kill's status", err)
	}
}

// TestExitHintThenHalt: a halt after hints still ends the wait (false),
// the child left running.
func TestExitHintThenHalt(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var w exitWait
	halt, haltNow := context.WithCancel(context.Background())
	returned := make(chan bool, 1)
	go func() { returned <- awaitExit(halt, cmd.Process.Pid, &w) }()
	waitInPlace(t, &w)
	for range 100 {
		w.hint()
	}
	haltNow()
	if exited := testsupport.Receive(t, returned, "awaitExit to return at the halt"); exited {
		t.Fatal("awaitExit said the child exited; it was halted")
	}
	if s := testsupport.ProcState(cmd.Process.Pid); s == 'Z' || s == 0 {
		t.Fatalf("child in state %q after the halt, want it running", s)
	}
}

// waitInPlace returns once awaitExit holds its pidfd: a hint before that
// finds no wait and is dropped, and would test nothing.
func waitInPlace(t *testing.T, w *exitWait) {
	t.Helper()
	testsupport.Until(t, "awaitExit to hold its pidfd", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.h != nil
	})
}
