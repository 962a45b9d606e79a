package terminal

import (
	"context"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestIdleSessionsHoldNoThreads: idle shells cost no OS thread each. A
// blocking wait for the shell and a blocking read of the PTY would add two
// per session, and under a container's pids limit the daemon would die
// after a few dozen sessions.
func TestIdleSessionsHoldNoThreads(t *testing.T) {
	const n = 40
	m := newTestManager(t, Config{MaxSessions: n})
	before := testsupport.ThreadCount(t)
	for range n {
		s, c := attach(t, m, Options{})
		// Once the answer is read, the shell waits for input and the pump
		// for output: the session is idle.
		if err := s.Write(context.Background(), []byte("echo up-$((1+1))\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, c, "up-2")
	}
	if grown := testsupport.ThreadCount(t) - before; grown >= n/2 {
		t.Fatalf("%d idle sessions added %d threads, want far fewer", n, grown)
	}
}
