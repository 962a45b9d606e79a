package process

import (
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestRunningProcessesHoldNoThreads: waiting for many running processes
// costs no OS thread each (a blocking wait would add one per process).
func TestRunningProcessesHoldNoThreads(t *testing.T) {
	m := newTestManager(t, nil)
	before := testsupport.ThreadCount(t)
	const n = 60
	procs := make([]*Process, n)
	for i := range procs {
		procs[i] = mustStart(t, m, Spec{Command: "exec sleep 100"})
	}
	eventually(t, "every process running", func() bool {
		for _, p := range procs {
			if !pidAlive(p.currentPID()) {
				return false
			}
		}
		return true
	})
	if grown := testsupport.ThreadCount(t) - before; grown >= n/2 {
		t.Errorf("%d running processes added %d threads, want far fewer", n, grown)
	}
	for _, p := range procs {
		if err := p.Kill(testCtx(t), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range procs {
		if info := waitEnded(t, p); info.Status != StatusKilled {
			t.Fatalf("status %s after kill, want killed", info.Status)
		}
	}
}
