package process

import (
	"testing"
	"time"
)

// TestWaitIncludesOutputOfLatePump: on a loaded machine the pump may read
// the output long after the process exited. Nobody else holds the pipes,
// so the end waits for it and the waiter finds the whole output.
func TestWaitIncludesOutputOfLatePump(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.OutputDrainGrace = time.Millisecond })
	m.beforeAppend = func() { time.Sleep(200 * time.Millisecond) }
	m.lateDrainLimit = time.Hour // the pump is waited for, however late
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
// the wait after the grace: were it not seen, the record would wait the
// hour given to late pumps.
func TestOrphanHoldingPipesEndsAfterGrace(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.OutputDrainGrace = time.Millisecond })
	m.lateDrainLimit = time.Hour
	p := mustStart(t, m, Spec{Command: "sleep 100 & echo started"})
	killGroupOnCleanup(t, p)
	if err := p.Wait(testCtx(t), hangGuard); err != nil {
		t.Fatalf("the record was held by the orphan: %v", err)
	}
	eventually(t, "the output", func() bool { return logText(t, p.Log(), Stdout) == "started\n" })
}
