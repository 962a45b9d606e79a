package process

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// earlierRun is a manager whose daemon "dies" without a shutdown: the test
// starts processes in it, then recovers its folder with another manager.
// Its processes are stopped only when the test ends, as the cleanup of any
// test manager does.
func earlierRun(t *testing.T, mutate func(*Config)) *Manager {
	t.Helper()
	return newTestManager(t, mutate)
}

// recoverIn is a new manager on dir after RecoverEarlierRun.
func recoverIn(t *testing.T, dir string, mutate func(*Config)) (*Manager, Recovered) {
	t.Helper()
	m := newTestManager(t, func(c *Config) {
		c.LogDir = dir
		if mutate != nil {
			mutate(c)
		}
	})
	rep, err := m.RecoverEarlierRun()
	if err != nil {
		t.Fatalf("RecoverEarlierRun: %v", err)
	}
	return m, rep
}

func TestRecoverEarlierRun(t *testing.T) {
	a := earlierRun(t, nil)
	dir := a.cfg.LogDir
	done := mustStart(t, a, Spec{Command: "echo out; echo err >&2; exit 0", Name: "done"})
	waitEnded(t, done)
	doneText := logText(t, done.Log(), Both) // the pipes' order: out and err either way
	quiet := mustStart(t, a, Spec{Command: "true"})
	waitEnded(t, quiet)
	srv := mustStart(t, a, Spec{Command: "printf partial; exec sleep 1000", Name: "srv", WorkingDir: os.TempDir(), Stdin: true, Env: map[string]string{"TOKEN": "s3cr3t-value"}})
	eventually(t, "srv's output", func() bool { return logText(t, srv.Log(), Stdout) == "partial" })
	silent := mustStart(t, a, Spec{Command: "exec sleep 1000", Name: "silent", KeepAlive: true})
	before := a.List()

	b, rep := recoverIn(t, dir, nil)
	after := b.List()
	if len(after) != len(before) {
		t.Fatalf("%d records after the restart, want the %d of the earlier run", len(after), len(before))
	}
	for i, p := range after {
		was, is := before[i].Info(), p.Info()
		if is.PID != was.PID || is.Name != was.Name || is.Command != was.Command || is.WorkingDir != was.WorkingDir ||
			is.RequestedDir != was.RequestedDir || !is.StartedAt.Equal(was.StartedAt) || is.KeepAlive != was.KeepAlive || is.Stdin != was.Stdin {
			t.Errorf("record %d came back as %+v, was %+v", i, is, was)
		}
		if is.Status != StatusFailed || is.ExitCode != -1 || is.CompletedAt.IsZero() {
			t.Errorf("%s: status %s, exit code %d, completedAt %v; want failed, -1, set", is.Name, is.Status, is.ExitCode, is.CompletedAt)
		}
	}
	gone := UnsupervisedMarker("", false)
	for _, tc := range []struct {
		name    string
		streams Stream
		want    string
	}{
		{"done", Both, doneText + gone},
		{"done", Stdout, "out\n" + gone},
		{"done", Stderr, "err\n"},
		{quiet.Name(), Both, gone},
		{"srv", Both, "partial\n" + UnsupervisedMarker(srv.PID(), true)},
		{"silent", Both, UnsupervisedMarker(silent.PID(), true)},
	} {
		p, err := b.Get(tc.name)
		if err != nil {
			t.Fatalf("Get(%s): %v", tc.name, err)
		}
		if got := logText(t, p.Log(), tc.streams); got != tc.want {
			t.Errorf("%s's %s output: %q, want %q", tc.name, tc.streams, got, tc.want)
		}
		if tail, _, err := p.Log().Tail(tc.streams, 1<<20); err != nil || string(tail) != tc.want {
			t.Errorf("%s's %s tail: %q (%v), want %q", tc.name, tc.streams, tail, err, tc.want)
		}
	}
	if want := []string{srv.PID(), silent.PID()}; !slices.Equal(rep.StillRunning, want) || rep.Processes != 4 || len(rep.Unsupervised) != 4 {
		t.Errorf("report %+v: want 4 processes, all unsupervised, %v still running", rep, want)
	}
	if err := after[2].WriteStdin(testCtx(t), []byte("x")); err == nil {
		t.Error("stdin of an earlier record took a write")
	}
	journal, err := os.ReadFile(filepath.Join(dir, journalFileName))
	if err != nil || bytes.Contains(journal, []byte("s3cr3t-value")) {
		t.Errorf("the journal (%v) holds a request's environment", err)
	}

	// New processes come after: a reused name or pid finds the newest
	// record, and their logs do not take the earlier ones' files.
	again := mustStart(t, b, Spec{Command: "echo new", Name: "done"})
	waitEnded(t, again)
	if p, err := b.Get("done"); err != nil || p != again {
		t.Errorf("Get(done) = %v, %v; want the new process", p, err)
	}
	if again.id <= after[len(after)-1].id {
		t.Errorf("the new process took id %d, not past the earlier run's %d", again.id, after[len(after)-1].id)
	}
	if got := logText(t, after[0].Log(), Both); got != doneText+gone {
		t.Errorf("a new process changed an earlier log: %q", got)
	}
	b.mu.Lock()
	b.procs = append(b.procs, &Process{pid: srv.PID(), name: "pid-twin"}) // the kernel reused srv's pid
	b.mu.Unlock()
	if p, _ := b.Get(srv.PID()); p.name != "pid-twin" {
		t.Errorf("Get(%s) found %q, want the newest record with that pid", srv.PID(), p.name)
	}
	b.mu.Lock()
	b.procs = b.procs[:len(b.procs)-1]
	b.mu.Unlock()
}

// TestRecoverTwice: a record recovered once keeps its end: a second
// restart neither notes it again nor changes when it ended.
func TestRecoverTwice(t *testing.T) {
	a := earlierRun(t, nil)
	waitEnded(t, mustStart(t, a, Spec{Command: "printf 'no newline'", Name: "x"}))
	b, _ := recoverIn(t, a.cfg.LogDir, nil)
	first := b.List()[0].Info()
	c, rep := recoverIn(t, a.cfg.LogDir, nil)
	p := c.List()[0]
	if got, want := logText(t, p.Log(), Both), "no newline\n"+UnsupervisedMarker("", false); got != want {
		t.Errorf("after two restarts the output is %q, want %q", got, want)
	}
	if is := p.Info(); is.Status != StatusFailed || is.ExitCode != -1 || !is.CompletedAt.Equal(first.CompletedAt) {
		t.Errorf("second restart: %s, %d, %v; want failed, -1, %v as the first found it", is.Status, is.ExitCode, is.CompletedAt, first.CompletedAt)
	}
	if len(rep.Unsupervised) != 0 {
		t.Errorf("the second restart found %v unsupervised again", rep.Unsupervised)
	}
}

// TestRecoverAfterShutdown: a clean shutdown writes each record's end; the
// next daemon lists them as they ended, with no restart notice.
func TestRecoverAfterShutdown(t *testing.T) {
	a := earlierRun(t, nil)
	waitEnded(t, mustStart(t, a, Spec{Command: "echo bye; exit 3", Name: "three"}))
	waitEnded(t, mustStart(t, a, Spec{Command: "true", Name: "ok"}))
	mustStart(t, a, Spec{Command: "exec sleep 1000", Name: "stopped"})
	a.Shutdown(hangGuard)

	b, rep := recoverIn(t, a.cfg.LogDir, nil)
	want := map[string]struct {
		status Status
		code   int
		out    string
	}{"three": {StatusFailed, 3, "bye\n"}, "ok": {StatusCompleted, 0, ""}, "stopped": {StatusStopped, -1, ""}}
	for _, p := range b.List() {
		is, w := p.Info(), want[p.Name()]
		if is.Status != w.status || is.ExitCode != w.code {
			t.Errorf("%s: %s %d, want %s %d", is.Name, is.Status, is.ExitCode, w.status, w.code)
		}
		if got := logText(t, p.Log(), Both); got != w.out {
			t.Errorf("%s's output %q, want %q", is.Name, got, w.out)
		}
	}
	if rep.Processes != 3 || len(rep.Unsupervised) != 0 {
		t.Errorf("report %+v, want 3 records, none unsupervised", rep)
	}
}

// TestRecoverKeepsDropMarkers: output a cap removed before the restart is
// reported to readers after it as it was before.
func TestRecoverKeepsDropMarkers(t *testing.T) {
	a := earlierRun(t, func(c *Config) { c.MaxLogBytesPerProcess = 256 << 10 })
	p := mustStart(t, a, Spec{Command: "i=0; while [ $i -lt 20000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"})
	waitEnded(t, p)
	dropped := p.Log().Dropped()
	if dropped == 0 {
		t.Fatal("setup: nothing was dropped")
	}
	before := logText(t, p.Log(), Both)
	b, _ := recoverIn(t, a.cfg.LogDir, func(c *Config) { c.MaxLogBytesPerProcess = 256 << 10 })
	q := b.List()[0]
	if got := q.Log().Dropped(); got != dropped {
		t.Errorf("after the restart %d bytes dropped, before %d", got, dropped)
	}
	if got := logText(t, q.Log(), Both); got != before+UnsupervisedMarker("", false) {
		t.Errorf("output after the restart differs: %d bytes, starts %.80q", len(got), got)
	}
}

// TestRecoverCaps: the caps of the new daemon hold at once: ended records
// beyond MaxEndedProcesses and output beyond the disk budget go, the
// oldest first.
func TestRecoverCaps(t *testing.T) {
	a := earlierRun(t, func(c *Config) { c.MaxLogBytesPerProcess = 256 << 10 }) // segments of 64 KiB
	var names []string
	for i := 0; i < 5; i++ {
		name := "p" + strconv.Itoa(i)
		names = append(names, name)
		// ~200 KB each, over several segments.
		waitEnded(t, mustStart(t, a, Spec{Command: "head -c 200000 /dev/zero | tr '\\0' " + strconv.Itoa(i), Name: name}))
	}
	b, rep := recoverIn(t, a.cfg.LogDir, func(c *Config) {
		c.MaxEndedProcesses = 3
		c.MaxLogBytesTotal = 300 << 10
		c.MaxLogBytesPerProcess = 160 << 10
	})
	var got []string
	for _, p := range b.List() {
		got = append(got, p.Name())
	}
	if !slices.Equal(got, names[2:]) || rep.Processes != 3 {
		t.Fatalf("records %v (report %d), want the 3 newest %v", got, rep.Processes, names[2:])
	}
	var total int64
	for _, p := range b.List() {
		total += p.Log().retained()
		if p.Log().retained() > 160<<10 {
			t.Errorf("%s keeps %d bytes, over its cap", p.Name(), p.Log().retained())
		}
	}
	if total > 300<<10 {
		t.Errorf("%d bytes kept, over the 300 KiB budget", total)
	}
	// The budget took from the oldest log, the per-process cap from each.
	oldest, newest := b.List()[0], b.List()[2]
	if oldest.Log().Dropped() <= newest.Log().Dropped() {
		t.Errorf("the oldest log lost %d bytes, the newest %d: the oldest output must go first", oldest.Log().Dropped(), newest.Log().Dropped())
	}
	if text := logText(t, newest.Log(), Both); !strings.HasSuffix(text, UnsupervisedMarker("", false)) {
		t.Errorf("the newest log lost its end: %.80q", text[max(0, len(text)-80):])
	}
	for _, name := range names[:2] {
		if files := logFiles(t, b.cfg.LogDir, "p"+strconv.FormatUint(a.List()[slices.Index(names, name)].id, 10)); len(files) != 0 {
			t.Errorf("files of pruned record %s remain: %v", name, files)
		}
	}
	// The recovered records count against the cap for the ends that
	// follow: each new end prunes the oldest.
	for i := 0; i < 2; i++ {
		waitEnded(t, mustStart(t, b, Spec{Command: "true", Name: "after" + strconv.Itoa(i)}))
	}
	got = got[:0]
	for _, p := range b.List() {
		got = append(got, p.Name())
	}
	if want := []string{"p4", "after0", "after1"}; !slices.Equal(got, want) {
		t.Fatalf("records after two more ends: %v, want %v", got, want)
	}
}

// TestRecoverTornEnd: a record a crash cut short ends the log; it is cut
// off the file, and the daemon's line follows what was whole.
func TestRecoverTornEnd(t *testing.T) {
	a := earlierRun(t, nil)
	p := mustStart(t, a, Spec{Command: "echo whole"})
	waitEnded(t, p)
	seg := p.Log().segs[0].path
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{byte(Stdout), 100, 0, 0, 0, 'c', 'u', 't'}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := recoverIn(t, a.cfg.LogDir, nil)
	if got, want := logText(t, b.List()[0].Log(), Both), "whole\n"+UnsupervisedMarker("", false); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestParseSegmentFileName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		id    uint64
		index int
		ok    bool
	}{
		{"p1-0.log", 1, 0, true},
		{"p42-17.log", 42, 17, true},
		{"p18446744073709551615-3.log", 18446744073709551615, 3, true},
		{"p18446744073709551616-3.log", 0, 0, false}, // id overflows
		{"p1-0.log.tmp", 0, 0, false},
		{"p-0.log", 0, 0, false},
		{"p1-.log", 0, 0, false},
		{"p+1-0.log", 0, 0, false},
		{"p1--1.log", 0, 0, false},
		{"p1-0-1.log", 0, 0, false},
		{"q1-0.log", 0, 0, false},
		{"p1_0.log", 0, 0, false},
		{"processes.jsonl", 0, 0, false},
		{"sandbox-api.lock", 0, 0, false},
	} {
		id, index, ok := parseSegmentFileName(tc.name)
		if id != tc.id || index != tc.index || ok != tc.ok {
			t.Errorf("parseSegmentFileName(%q) = %d, %d, %v; want %d, %d, %v", tc.name, id, index, ok, tc.id, tc.index, tc.ok)
		}
	}
}
