package process

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onPoller reports whether f is read through the runtime's poller (a pump
// has it) rather than in blocking mode (a quick watch has it, or no one
// yet). A file closed meanwhile (handed to a pump as a duplicate) says no.
func onPoller(f *os.File) bool {
	return f != nil && f.SetReadDeadline(time.Time{}) == nil
}

// stdoutPipe is the read end of p's stdout pipe, nil once at end of file.
func stdoutPipe(p *Process) *os.File {
	p.mu.Lock()
	o := p.att.out
	p.mu.Unlock()
	return o.openFiles()[0]
}

// waitForFile is a shell loop that waits until path exists: the child, not
// the test, polls.
func waitForFile(path string) string {
	return "while [ ! -e " + path + " ]; do sleep 0.01; done"
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestQuickWatchHandsOverToPumps: a process that outlives the quick watch
// has what it printed during the watch kept, its pipes handed to pumps on
// the poller once the limit passed, and what it prints later kept too, on
// both streams, in order.
func TestQuickWatchHandsOverToPumps(t *testing.T) {
	m := newTestManager(t, nil)
	release := filepath.Join(t.TempDir(), "go")
	p := mustStart(t, m, Spec{Command: "echo a; echo e1 >&2; " + waitForFile(release) + "; echo b; echo e2 >&2"})
	t.Cleanup(func() { touch(t, release) })
	eventually(t, "output read during the quick watch", func() bool {
		return logText(t, p.Log(), Stdout) == "a\n" && logText(t, p.Log(), Stderr) == "e1\n"
	})
	eventually(t, "stdout handed to a pump", func() bool { return onPoller(stdoutPipe(p)) })
	touch(t, release)
	if info := waitEnded(t, p); info.Status != StatusCompleted {
		t.Fatalf("status %q, want %q", info.Status, StatusCompleted)
	}
	if out, errOut := logText(t, p.Log(), Stdout), logText(t, p.Log(), Stderr); out != "a\nb\n" || errOut != "e1\ne2\n" {
		t.Fatalf("stdout %q, stderr %q; want %q and %q", out, errOut, "a\nb\n", "e1\ne2\n")
	}
}

// TestQuickWatchesAreBounded: at most quickWatchSlots quick watches run at
// once (each holds a thread); starts beyond them go straight to pumps, and
// every process's output is kept either way. The slots are free again once
// the processes end.
func TestQuickWatchesAreBounded(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = hangGuard // no watch ends before its process does
	release := filepath.Join(t.TempDir(), "go")
	t.Cleanup(func() { touch(t, release) })
	const extra = 2
	procs := make([]*Process, quickWatchSlots+extra)
	for i := range procs {
		procs[i] = mustStart(t, m, Spec{Command: "echo x; " + waitForFile(release) + "; echo y"})
	}
	for _, p := range procs {
		eventually(t, "the first line of each", func() bool { return logText(t, p.Log(), Stdout) == "x\n" })
	}
	eventually(t, "every slot taken", func() bool { return len(m.quick) == quickWatchSlots })
	pumped := 0
	for _, p := range procs {
		if onPoller(stdoutPipe(p)) {
			pumped++
		}
	}
	if pumped != extra {
		t.Fatalf("%d of %d processes read by pumps while every quick watch runs, want %d", pumped, len(procs), extra)
	}
	touch(t, release)
	for _, p := range procs {
		waitEnded(t, p)
		if out := logText(t, p.Log(), Stdout); out != "x\ny\n" {
			t.Fatalf("output %q, want %q", out, "x\ny\n")
		}
	}
	eventually(t, "the slots given back", func() bool { return len(m.quick) == 0 })
}

// TestQuickWatchReadsAFastWriter: a process that writes many times what a
// pipe holds, all of it within the quick watch, loses nothing.
func TestQuickWatchReadsAFastWriter(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = hangGuard // the whole output goes through the quick watch
	const size = 4 << 20
	p := mustStart(t, m, Spec{Command: "head -c " + strconv.Itoa(size) + " /dev/zero"})
	if info := waitEnded(t, p); info.Status != StatusCompleted {
		t.Fatalf("status %q, want %q", info.Status, StatusCompleted)
	}
	if got := len(logText(t, p.Log(), Stdout)); got != size {
		t.Fatalf("%d bytes kept, want %d", got, size)
	}
}

// TestQuickWatchLeavesHeldPipesToPumps: once the process exited, a quick
// watch does not wait for pipes a background child still holds (it could
// hold them for its whole life): the end is recorded as without a quick
// watch, and the child's later output is still kept.
func TestQuickWatchLeavesHeldPipesToPumps(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = 2 * hangGuard // only the exit may end the watch here
	release := filepath.Join(t.TempDir(), "go")
	p := mustStart(t, m, Spec{Command: "(" + waitForFile(release) + "; echo late) & echo done"})
	killGroupOnCleanup(t, p)
	if info := waitEnded(t, p); info.Status != StatusCompleted {
		t.Fatalf("status %q, want %q", info.Status, StatusCompleted)
	}
	touch(t, release)
	eventually(t, "the background child's output", func() bool { return logText(t, p.Log(), Stdout) == "done\nlate\n" })
}

// TestQuickWatchWakesOnceAtTheEnd: while it watches, the daemon holds its
// own copies of the pipes' write ends, so a silent command's exit wakes
// the quick watch once, by its pidfd, not first by each pipe's end as the
// child closes it; and the watch still reads both pipes to their end
// itself, its copies closed once the exit is seen. Several runs: without
// the copies, a watch that starts polling only once the child is gone
// (a loaded machine) would see everything at once.
func TestQuickWatchWakesOnceAtTheEnd(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = hangGuard // only the exit may end the watch here
	type watched struct {
		wokeBeforeExit int
		sawAll         bool
	}
	ends := make(chan watched, 1)
	m.quickWatched = func(woke int, sawAll bool) { ends <- watched{woke, sawAll} }
	for run := range 5 {
		p := mustStart(t, m, Spec{Command: "true"})
		if info := waitEnded(t, p); info.Status != StatusCompleted {
			t.Fatalf("run %d: status %q, want %q", run, info.Status, StatusCompleted)
		}
		select {
		case w := <-ends:
			if w.wokeBeforeExit != 0 || !w.sawAll {
				t.Fatalf("run %d: the watch woke %d times before the exit and saw all ends: %v; want 0 and true", run, w.wokeBeforeExit, w.sawAll)
			}
		case <-time.After(hangGuard):
			t.Fatalf("run %d: no quick watch ended", run)
		}
	}
}

// TestQuickWatchKeepsTheLastBytes: output written just before the exit is
// kept whole, on both streams, run after run, though the watch takes a
// pipe's end without a read (TestNothingToReadOnARealPipe pins when).
func TestQuickWatchKeepsTheLastBytes(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = hangGuard // the whole output goes through the quick watch
	for run := range 40 {
		p, err := m.Execute(testCtx(t), ExecuteRequest{Spec: Spec{Command: "printf out; printf err >&2"}, WaitForCompletion: true})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if out, errOut := logText(t, p.Log(), Stdout), logText(t, p.Log(), Stderr); out != "out" || errOut != "err" {
			t.Fatalf("run %d: kept %q and %q, want %q and %q", run, out, errOut, "out", "err")
		}
	}
}

// TestNothingToReadOnARealPipe: on a real pipe, the watch reads while the
// pipe holds bytes, whether its writers are gone or not, and takes its
// end without a read only once it is empty and no writer is left.
func TestNothingToReadOnARealPipe(t *testing.T) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := fds[0], fds[1]
	defer unix.Close(r)
	revents := func() int16 {
		pfd := []unix.PollFd{{Fd: int32(r), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 0); err != nil {
			t.Fatal(err)
		}
		return pfd[0].Revents
	}
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"bytes, a writer", func() { _, _ = unix.Write(w, []byte("last")) }, false},
		{"bytes, no writer", func() { _ = unix.Close(w) }, false},
		{"empty, no writer", func() { _, _ = unix.Read(r, make([]byte, 16)) }, true},
	}
	for _, st := range steps {
		st.do()
		if ev := revents(); nothingToRead(ev) != st.want {
			t.Errorf("%s: poll gave %#x; nothing to read %t, want %t", st.name, ev, !st.want, st.want)
		}
	}
}
