package exitwait

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// guard bounds every wait: it only catches hangs (the tests' one policy,
// testsupport.HangGuard).
const guard = testsupport.HangGuard

// pidfds counts the pidfds this process holds open.
func pidfds(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && link == "anon_inode:[pidfd]" {
			n++
		}
	}
	return n
}

// TestWaitingHoldsNoThreads: many children waited for at once cost no OS
// thread each (a blocking wait would add one per child), and every wait
// returns once its child is killed.
func TestWaitingHoldsNoThreads(t *testing.T) {
	const n = 60
	before := testsupport.ThreadCount(t)
	cmds := make([]*exec.Cmd, n)
	done := make(chan int, n)
	for i := range cmds {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cmds[i] = cmd
		go func() {
			Await(cmd.Process.Pid)
			done <- i
		}()
	}
	// Every waiter is in place once it holds its pidfd (a blocking wait
	// never opens one, and fails here).
	deadline := time.Now().Add(guard)
	for pidfds(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pidfds open, want %d", pidfds(t), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if grown := testsupport.ThreadCount(t) - before; grown >= n/2 {
		t.Fatalf("waiting for %d children added %d threads, want far fewer", n, grown)
	}
	select {
	case i := <-done:
		t.Fatalf("wait %d returned while its child runs", i)
	default:
	}
	for _, cmd := range cmds {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	timeout := time.After(guard)
	for range n {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("a wait did not return after its child was killed")
		}
	}
}

// TestAwaitLeavesTheZombieToWait: Await returns once the child has exited
// but does not reap it, so cmd.Wait still gets the exit status.
func TestAwaitLeavesTheZombieToWait(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 7")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	go func() { Await(cmd.Process.Pid); close(returned) }()
	select {
	case <-returned:
	case <-time.After(guard):
		t.Fatal("Await did not return after the child exited")
	}
	if s := testsupport.ProcState(cmd.Process.Pid); s != 'Z' {
		t.Fatalf("child state %q after Await, want a zombie (Z)", s)
	}
	err := cmd.Wait()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 {
		t.Fatalf("cmd.Wait after Await: %v, want exit status 7", err)
	}
}

// TestAwaitUnknownPIDReturns: with no pidfd to watch, Await gives up at
// once rather than hang.
func TestAwaitUnknownPIDReturns(t *testing.T) {
	returned := make(chan struct{})
	go func() { Await(1 << 30); close(returned) }() // above pid_max
	select {
	case <-returned:
	case <-time.After(guard):
		t.Fatal("Await of a pid that does not exist did not return")
	}
}
