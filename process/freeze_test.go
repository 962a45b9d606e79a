package process

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// newFrozenTestManager is a manager for a freeze test: no cleanup of its
// own, since after the freeze its processes belong to the manager that
// resumes them (which the test shuts down).
func newFrozenTestManager(t *testing.T, dir string, mutate func(*Config)) *Manager {
	t.Helper()
	cfg := Config{LogDir: dir, Shell: "/bin/sh", RestartDelay: 50 * time.Millisecond, StopGrace: hangGuard}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.pidfds {
		t.Skip("skipping: no pidfds here, so no freeze")
	}
	return m
}

// execAcross plays the exec between two images in one test process: the
// next image gets the same descriptors, and the earlier image's copies
// close (they are close-on-exec).
func execAcross(t *testing.T, f handover.Frozen) handover.Frozen {
	t.Helper()
	next := handover.Frozen{State: f.State}
	for _, file := range f.Files {
		fd, err := syscall.Dup(int(file.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		// Fd made it blocking; the descriptor's mode is the pipe's, shared.
		_ = syscall.SetNonblock(fd, true)
		next.Files = append(next.Files, os.NewFile(uintptr(fd), file.Name()))
	}
	for _, file := range f.Files {
		_ = file.Close()
	}
	return next
}

// resumeForTest resumes f and shuts the manager down when the test ends.
func resumeForTest(t *testing.T, dir string, f handover.Frozen) *Manager {
	t.Helper()
	m, err := Resume(Config{LogDir: dir, Shell: "/bin/sh", RestartDelay: 50 * time.Millisecond, StopGrace: hangGuard}, f)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	t.Cleanup(func() {
		m.Shutdown(5 * time.Second)
		for _, p := range m.List() {
			<-p.Done()
		}
	})
	return m
}

// checkCount checks that out is the lines 1..n, each once, in order.
func checkCount(t *testing.T, out string, n int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q, want %d (a byte lost or repeated across the freeze)", i+1, l, i+1)
		}
	}
}

// Everything of a process survives a freeze and a resume in the "next
// image": output with no byte lost or repeated, an exit that came during
// the switch with its exact code, stdin and the bytes already written to
// it, restart counters, lifetimes.
func TestFreezeResumeKeepsProcesses(t *testing.T) {
	dir := t.TempDir()
	a := newFrozenTestManager(t, dir, nil)
	// The counter writes as fast as it can until told to stop, so the
	// freeze comes in the middle of its output.
	stop := filepath.Join(t.TempDir(), "stop")
	counter := mustStart(t, a, Spec{Name: "counter", Command: "i=0; while [ ! -e " + stop + " ]; do i=$((i+1)); echo $i; done"})
	fifo := mkfifo(t)
	exiter := mustStart(t, a, Spec{Name: "exiter", Command: "read x < " + fifo + "; exit 7"})
	cat := mustStart(t, a, Spec{Name: "cat", Command: "cat", Stdin: true})
	flaky := mustStart(t, a, Spec{Name: "flaky", Command: "test -f m && exit 0; touch m; exit 3", WorkingDir: t.TempDir(), RestartOnFailure: true, MaxRestarts: 2})
	lifetime := time.Hour
	kept := mustStart(t, a, Spec{Name: "kept", Command: "sleep 1000", KeepAlive: true, Timeout: &lifetime})
	if err := cat.WriteStdin(testCtx(t), []byte("before\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cat to echo", func() bool { return logText(t, cat.Log(), Stdout) == "before\n" })
	waitEnded(t, flaky)
	eventually(t, "the counter to be under way", func() bool { return strings.Contains(logText(t, counter.Log(), Stdout), "\n100\n") })
	wantDeadline := kept.lifetimeAt

	f, err := a.Freeze(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	// Frozen: nothing starts, nothing is acted on.
	if _, err := a.Start(Spec{Command: "true"}); !errors.Is(err, ErrSwitching) {
		t.Fatalf("Start while frozen: %v, want ErrSwitching", err)
	}
	if err := cat.WriteStdin(testCtx(t), []byte("x")); !errors.Is(err, ErrSwitching) {
		t.Fatalf("WriteStdin while frozen: %v, want ErrSwitching", err)
	}
	if err := kept.Stop(testCtx(t)); !errors.Is(err, ErrSwitching) {
		t.Fatalf("Stop while frozen: %v, want ErrSwitching", err)
	}
	// An exit during the switch stays a zombie for the next image.
	exiterPID, _ := strconv.Atoi(exiter.PID())
	writeFIFO(t, fifo, "go\n")
	eventually(t, "the exiter to be a zombie", func() bool {
		state, _, ok := readStat(exiterPID, make([]byte, 512))
		return ok && state == 'Z'
	})

	b := resumeForTest(t, dir, execAcross(t, f))

	counterB, err := b.Get("counter")
	if err != nil {
		t.Fatal(err)
	}
	if counterB.PID() != counter.PID() {
		t.Fatalf("counter pid %s after the resume, want %s", counterB.PID(), counter.PID())
	}
	frozenAt := len(logText(t, counterB.Log(), Stdout))
	eventually(t, "the counter to go on in the next image", func() bool { return len(logText(t, counterB.Log(), Stdout)) > frozenAt+1000 })
	if err := os.WriteFile(stop, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if info := waitEnded(t, counterB); info.Status != StatusCompleted {
		t.Fatalf("counter ended %s", info.Status)
	}
	out := logText(t, counterB.Log(), Stdout)
	checkCount(t, out, strings.Count(out, "\n"))

	exiterB, _ := b.Get("exiter")
	if info := waitEnded(t, exiterB); info.Status != StatusFailed || info.ExitCode != 7 {
		t.Fatalf("exiter ended %s/%d, want failed/7", info.Status, info.ExitCode)
	}

	catB, _ := b.Get("cat")
	if err := catB.WriteStdin(testCtx(t), []byte("after\n")); err != nil {
		t.Fatal(err)
	}
	if err := catB.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, catB)
	if got := logText(t, catB.Log(), Stdout); got != "before\nafter\n" {
		t.Fatalf("cat echoed %q, want before and after the switch", got)
	}

	flakyB, _ := b.Get("flaky")
	if info := flakyB.Info(); info.RestartCount != 1 || info.Status != StatusCompleted || !strings.Contains(logText(t, flakyB.Log(), Stdout), "Attempting restart 1/2") {
		t.Fatalf("flaky after the resume: %+v", info)
	}

	keptB, _ := b.Get("kept")
	keptB.mu.Lock()
	gotDeadline := keptB.lifetimeAt
	keptB.mu.Unlock()
	if !gotDeadline.Equal(wantDeadline) {
		t.Fatalf("lifetime ends at %v after the resume, want %v", gotDeadline, wantDeadline)
	}
	// Names came across: the running one's is still taken, the ended
	// one's is free.
	if _, err := b.Start(Spec{Command: "true", Name: "kept"}); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("start with the name of a running resumed process: %v, want ErrNameInUse", err)
	}
	waitEnded(t, mustStart(t, b, Spec{Command: "true", Name: "flaky"}))

	// New processes of the resumed manager take the next ids and log files.
	if next := mustStart(t, b, Spec{Command: "echo next"}); next.id != kept.id+2 {
		t.Fatalf("next process id %d, want %d (the one after the second flaky)", next.id, kept.id+2)
	}
}

// A restart waiting out its delay at the freeze is still pending in the
// next image: a kill there wakes it and it gives up.
func TestFreezeKeepsAPendingRestart(t *testing.T) {
	dir := t.TempDir()
	a := newFrozenTestManager(t, dir, func(c *Config) { c.RestartDelay = time.Hour })
	p := mustStart(t, a, Spec{Command: "exit 3", RestartOnFailure: true, MaxRestarts: 5})
	eventually(t, "the restart delay", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return !p.restartAt.IsZero()
	})
	f, err := a.Freeze(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var st frozenManager
	if err := json.Unmarshal(f.State, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Processes) != 1 || st.Processes[0].RestartAt.IsZero() || st.Processes[0].Status != StatusRunning {
		t.Fatalf("state of a pending restart: %+v", st.Processes)
	}
	b := resumeForTest(t, dir, execAcross(t, f))
	pb, _ := b.Get(p.PID())
	if err := pb.Kill(testCtx(t), 0); err != nil {
		t.Fatal(err)
	}
	if info := pb.Info(); info.Status != StatusKilled || info.RestartCount != 0 {
		t.Fatalf("after a kill in the restart delay: %s, %d restarts", info.Status, info.RestartCount)
	}
}

// A thawed manager goes on as if nothing happened.
func TestThawGoesOn(t *testing.T) {
	dir := t.TempDir()
	a := newFrozenTestManager(t, dir, nil)
	t.Cleanup(func() { a.Shutdown(5 * time.Second) })
	fifo := mkfifo(t)
	p := mustStart(t, a, Spec{Command: "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo $i; done; read x < " + fifo + "; exit 4", Stdin: true})
	eventually(t, "output", func() bool { return logText(t, p.Log(), Stdout) != "" })
	if _, err := a.Freeze(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Freeze(testCtx(t)); !errors.Is(err, ErrSwitching) {
		t.Fatalf("a second Freeze: %v, want ErrSwitching", err)
	}
	if err := a.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteStdin(testCtx(t), []byte("x\n")); err != nil {
		t.Fatalf("WriteStdin after a thaw: %v", err)
	}
	writeFIFO(t, fifo, "go\n")
	if info := waitEnded(t, p); info.ExitCode != 4 {
		t.Fatalf("exit code %d after a thaw, want 4", info.ExitCode)
	}
	checkCount(t, logText(t, p.Log(), Stdout), 2000)
	if q := mustStart(t, a, Spec{Command: "echo again"}); waitEnded(t, q).Status != StatusCompleted {
		t.Fatal("a start after a thaw did not complete")
	}
}

// Resume refuses a state it cannot honour, closing none of the handed
// descriptors (the caller hands them to the earlier binary instead).
func TestResumeRefusesWhatItCannotHonour(t *testing.T) {
	dir := t.TempDir()
	a := newFrozenTestManager(t, dir, nil)
	p := mustStart(t, a, Spec{Command: "cat", Stdin: true})
	if err := p.WriteStdin(testCtx(t), []byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cat to echo", func() bool { return logText(t, p.Log(), Stdout) == "hi\n" })
	f, err := a.Freeze(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-p.att.pid, syscall.SIGKILL)
		_, _ = reapChild(p.att.pid)
	})
	cfg := Config{LogDir: dir, Shell: "/bin/sh"}
	for _, tc := range []struct {
		name   string
		mutate func(*frozenManager)
		files  []*os.File
	}{
		{"another version", func(s *frozenManager) { s.Version = stateVersion + 1 }, f.Files},
		{"a descriptor missing", func(*frozenManager) {}, f.Files[:1]},
		{"a pid that is no child", func(s *frozenManager) { s.Processes[0].Attempt.PID = 1 }, f.Files},
		{"a log grown behind its back", func(s *frozenManager) { s.Processes[0].Log.Segments[0].Size-- }, f.Files},
	} {
		// A deep copy of the state, through JSON.
		var s frozenManager
		_ = json.Unmarshal(f.State, &s)
		tc.mutate(&s)
		data, _ := json.Marshal(s)
		if _, err := Resume(cfg, handover.Frozen{State: data, Files: tc.files}); !errors.Is(err, ErrHandover) {
			t.Errorf("%s: Resume = %v, want ErrHandover", tc.name, err)
		}
	}
	for _, file := range f.Files {
		if _, err := file.Stat(); err != nil {
			t.Fatalf("a refused Resume closed a handed descriptor: %v", err)
		}
	}
}
