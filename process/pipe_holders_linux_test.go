package process

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestPipesHeldElsewhere(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ino := []uint64{pipeInode(r)}
	if ino[0] == 0 {
		t.Fatal("pipeInode found no inode")
	}
	if pipesHeldElsewhere(ino) {
		t.Fatal("a pipe only the test process holds is reported as held elsewhere")
	}
	cmd := exec.Command("sleep", "100")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !pipesHeldElsewhere(ino) {
		t.Error("a child holding the write end is not seen")
	}
	if pipesHeldElsewhere([]uint64{pipeInode(r) + 1<<40}) {
		t.Error("an unrelated inode is reported as held")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if pipesHeldElsewhere(ino) {
		t.Error("the pipe is still reported as held after the child ended")
	}
}

// TestWaitIncludesOutputOfLatePump: on a loaded machine the pump may read
// the output long after the process exited. Nobody else holds the pipes,
// so the end waits for it and the waiter finds the whole output.
func TestWaitIncludesOutputOfLatePump(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.OutputDrainGrace = time.Millisecond })
	m.beforeAppend = func() { time.Sleep(200 * time.Millisecond) }
	p := mustStart(t, m, Spec{Command: "echo out; echo err >&2"})
	if err := p.Wait(testCtx(t), hangGuard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    Stream
		want string
	}{{Stdout, "out\n"}, {Stderr, "err\n"}} {
		if got := logText(t, p.Log(), c.s); got != c.want {
			t.Errorf("stream %v right after Wait = %q, want %q", c.s, got, c.want)
		}
	}
}

// TestOrphanHoldingPipesEndsAfterGrace: an orphan holding the pipes ends
// the wait after the grace, not after lateDrainLimit.
func TestOrphanHoldingPipesEndsAfterGrace(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.OutputDrainGrace = time.Millisecond })
	p := mustStart(t, m, Spec{Command: "sleep 30 & echo started"})
	killGroupOnCleanup(t, p)
	// Held for lateDrainLimit, the record would end only after this wait.
	if err := p.Wait(testCtx(t), lateDrainLimit); err != nil {
		t.Fatalf("the record was held by the orphan: %v", err)
	}
	eventually(t, "the output", func() bool { return logText(t, p.Log(), Stdout) == "started\n" })
}
