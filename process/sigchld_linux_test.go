package process

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
)

// sigchldCaught reports whether the process catches SIGCHLD (a handler is
// installed), from the SigCgt mask in /proc/self/status.
func sigchldCaught(t *testing.T) bool {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		if mask, ok := bytes.CutPrefix(line, []byte("SigCgt:")); ok {
			bits, err := strconv.ParseUint(string(bytes.TrimSpace(mask)), 16, 64)
			if err != nil {
				t.Fatalf("SigCgt %q: %v", mask, err)
			}
			return bits&(1<<(17-1)) != 0 // SIGCHLD is 17
		}
	}
	t.Fatal("no SigCgt in /proc/self/status")
	return false
}

// While a reaper runs and watches nothing, SIGCHLD is at the kernel's
// default (dropped as it is raised), yet a managed child still leaves its
// exit status for the supervisor; the reaper's end gives the runtime its
// handler back. Watching is checked in TestReaperSubreaper.
func TestReaperDropsSIGCHLDWhileUnwatched(t *testing.T) {
	if !sigchldCaught(t) {
		t.Fatal("setup: SIGCHLD is not caught before any reaper runs; the Go runtime catches it")
	}
	m := newTestManager(t, func(c *Config) { c.Reap = true })
	eventually(t, "SIGCHLD to be left at its default while the reaper watches nothing", func() bool { return !sigchldCaught(t) })

	for _, code := range []int{0, 3} {
		p := mustStart(t, m, Spec{Command: "exit " + strconv.Itoa(code)})
		if info := waitEnded(t, p); info.ExitCode != code {
			t.Fatalf("exit %d read as %d (%s): the child was reaped before its supervisor waited", code, info.ExitCode, info.Status)
		}
	}

	m.Shutdown(5 * time.Second)
	if !sigchldCaught(t) {
		t.Fatal("SIGCHLD is still at its default after the reaper ended; the runtime's handler must be back")
	}
}
