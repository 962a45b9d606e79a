package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewManagerRequiresLogDir(t *testing.T) {
	if _, err := NewManager(Config{}); err == nil {
		t.Fatal("NewManager without LogDir succeeded")
	}
}

func TestNewManagerDefaults(t *testing.T) {
	m := newTestManager(t, func(c *Config) { *c = Config{LogDir: c.LogDir} })
	wd, _ := os.Getwd()
	c := m.cfg
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"MaxLogBytesPerProcess", c.MaxLogBytesPerProcess, int64(128 << 20)},
		{"MaxLogBytesTotal", c.MaxLogBytesTotal, int64(1 << 30)},
		{"MaxEndedProcesses", c.MaxEndedProcesses, 256},
		{"WorkingDir", c.WorkingDir, wd},
		{"Shell", c.Shell, DefaultShell()},
		{"Env", len(c.Env), len(os.Environ())},
		{"RestartDelay", c.RestartDelay, time.Second},
		{"StopGrace", c.StopGrace, 5 * time.Second},
		{"KeepAliveTimeout", c.KeepAliveTimeout, 600 * time.Second},
		{"OutputDrainGrace", c.OutputDrainGrace, 100 * time.Millisecond},
		{"Logger set", c.Logger != nil, true},
	} {
		if f.got != f.want {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

func TestNewManagerLogDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := []string{"p1-0.log", "p23-4.log"}
	kept := []string{"notes.txt", "p1-0.log.bak", "px-1.log", "p1.log", "q1-0.log"}
	for _, name := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := newTestManager(t, func(c *Config) { c.LogDir = dir })
	// Logs of no record are an earlier run's leftovers, removed by the
	// recovery (NewManager alone touches nothing: a hand-over may follow).
	if _, err := os.Stat(filepath.Join(dir, stale[0])); err != nil {
		t.Errorf("NewManager touched %s: %v", stale[0], err)
	}
	if _, err := m.RecoverEarlierRun(); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("stale log %s was not removed (%v)", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s, not a log of ours, was touched: %v", name, err)
		}
	}
	// A missing folder is created.
	fresh := filepath.Join(t.TempDir(), "x", "y")
	newTestManager(t, func(c *Config) { c.LogDir = fresh })
	if st, err := os.Stat(fresh); err != nil || !st.IsDir() {
		t.Fatalf("log dir not created: %v", err)
	}
}

func TestGeneratedNamesUnique(t *testing.T) {
	m := newTestManager(t, nil)
	const n = 20
	procs := make([]*Process, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := m.Start(Spec{Command: "exec sleep 100"})
			if err != nil {
				t.Error(err)
			}
			procs[i] = p
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	names := map[string]bool{}
	for _, p := range procs {
		if p.Name() == "" || names[p.Name()] {
			t.Fatalf("name %q is empty or taken twice", p.Name())
		}
		names[p.Name()] = true
		if got, err := m.Get(p.Name()); err != nil || got != p {
			t.Fatalf("Get(%q) = %v, %v", p.Name(), got, err)
		}
	}
	// A user name that looks generated is not handed out again while held.
	next := "proc-" + strconv.FormatUint(m.ids.Load()+1, 10)
	mustStart(t, m, Spec{Command: "exec sleep 100", Name: next})
	if p := mustStart(t, m, Spec{Command: "exec sleep 100"}); p.Name() == next {
		t.Fatalf("generated name %q collides with a running process", next)
	}
}

func TestNameInUse(t *testing.T) {
	m := newTestManager(t, nil)
	first := mustStart(t, m, Spec{Command: "exec sleep 100", Name: "svc"})
	if _, err := m.Start(Spec{Command: "true", Name: "svc"}); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("second start of a running name = %v, want ErrNameInUse", err)
	}
	if err := first.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	second := mustStart(t, m, Spec{Command: "echo second", Name: "svc"})
	if got, err := m.Get("svc"); err != nil || got != second {
		t.Fatalf("Get(svc) = %v, %v; want the newest process", got, err)
	}
	if got, err := m.Get(first.PID()); err != nil || got != first {
		t.Fatalf("Get(%s) = %v, %v; want the first process by pid", first.PID(), got, err)
	}
	waitEnded(t, second)
	if list := m.List(); len(list) != 2 || list[0] != first || list[1] != second {
		t.Fatalf("List = %v, want both, oldest first", list)
	}
}

func TestGet(t *testing.T) {
	m := newTestManager(t, nil)
	a := mustStart(t, m, Spec{Command: "true", Name: "alpha"})
	b := mustStart(t, m, Spec{Command: "true"})
	waitEnded(t, a)
	waitEnded(t, b)
	for id, want := range map[string]*Process{"alpha": a, a.PID(): a, b.Name(): b, b.PID(): b} {
		if got, err := m.Get(id); err != nil || got != want {
			t.Errorf("Get(%q) = %v, %v", id, got, err)
		}
	}
	for _, id := range []string{"", "beta", "0", "-1", "../alpha"} {
		if _, err := m.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestNamesAreNotPaths(t *testing.T) {
	m := newTestManager(t, nil)
	// A name with "/" is refused (name_test.go); these would still be
	// paths of their own if names were used as file names.
	for _, name := range []string{"..", ".", "-rf", "~root"} {
		p := mustStart(t, m, Spec{Command: "echo hi", Name: name})
		waitEnded(t, p)
		if logText(t, p.Log(), Stdout) != "hi\n" {
			t.Fatalf("output of %q lost", name)
		}
	}
	entries, err := os.ReadDir(m.cfg.LogDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, _, ok := parseSegmentFileName(e.Name()); !ok && e.Name() != journalFileName {
			t.Errorf("unexpected file %q in the log dir", e.Name())
		}
	}
	if around, err := os.ReadDir(filepath.Dir(m.cfg.LogDir)); err != nil || len(around) != 1 {
		t.Errorf("a name wrote outside the log folder: %v (%v)", around, err)
	}
}

func TestPruneEnded(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.MaxEndedProcesses = 2 })
	running := mustStart(t, m, Spec{Command: "exec sleep 100", Name: "running"})
	var ended []*Process
	for i := 0; i < 5; i++ {
		p := mustStart(t, m, Spec{Command: "echo " + strconv.Itoa(i), Name: "e" + strconv.Itoa(i)})
		waitEnded(t, p)
		ended = append(ended, p)
	}
	// Pruning runs right after the end is recorded; the files go just
	// after the records.
	eventually(t, "pruning", func() bool {
		for _, p := range ended[:3] {
			if len(logFiles(t, m.cfg.LogDir, "p"+strconv.FormatUint(p.id, 10))) != 0 {
				return false
			}
		}
		return len(m.List()) == 3
	})
	list := m.List()
	if list[0] != running || list[1] != ended[3] || list[2] != ended[4] {
		t.Fatalf("List = %v, want the running process and the two newest ended ones", list)
	}
	for i, p := range ended {
		files := logFiles(t, m.cfg.LogDir, "p"+strconv.FormatUint(p.id, 10))
		if _, err := m.Get(p.Name()); i < 3 {
			if !errors.Is(err, ErrNotFound) || len(files) != 0 {
				t.Errorf("pruned e%d: Get = %v, files %v; want ErrNotFound, no files", i, err, files)
			}
		} else if err != nil || len(files) == 0 || logText(t, p.Log(), Stdout) != fmt.Sprintf("%d\n", i) {
			t.Errorf("kept e%d: Get = %v, files %v", i, err, files)
		}
	}
}

// TestPrunedLogDiscardsLateOutput: an orphan still writing into the pipes
// of a process whose record was pruned must not recreate log files nobody
// accounts for or deletes.
func TestPrunedLogDiscardsLateOutput(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.MaxEndedProcesses = 1 })
	fifo := mkfifo(t)
	pidfile := filepath.Join(t.TempDir(), "bg.pid")
	a := mustStart(t, m, Spec{
		Command: `(read x < "$FIFO"; echo late) & echo $! > "$PIDFILE"; echo a`,
		Env:     map[string]string{"FIFO": fifo, "PIDFILE": pidfile},
	})
	killGroupOnCleanup(t, a)
	waitEnded(t, a)
	bg := readPIDFile(t, pidfile)
	waitEnded(t, mustStart(t, m, Spec{Command: "echo b"}))
	prefix := "p" + strconv.FormatUint(a.id, 10)
	eventually(t, "a to be pruned", func() bool {
		_, err := m.Get(a.PID())
		return errors.Is(err, ErrNotFound) && len(logFiles(t, m.cfg.LogDir, prefix)) == 0
	})
	writeFIFO(t, fifo, "go\n")
	eventually(t, "the orphan to exit", func() bool { return !pidAlive(bg) })
	a.mu.Lock()
	drained := a.att.out.drained
	a.mu.Unlock()
	select {
	case <-drained: // the pumps wrote everything they read
	case <-time.After(hangGuard):
		t.Fatal("pipes still open after the orphan exited")
	}
	if files := logFiles(t, m.cfg.LogDir, prefix); len(files) != 0 {
		t.Fatalf("late output of a pruned process recreated %v", files)
	}
}

// TestDiskBudget: past MaxLogBytesTotal the oldest segments go first,
// whichever process they belong to.
func TestDiskBudget(t *testing.T) {
	const perProcess = 1 << 20 // 256 KiB segments
	const total = 1 << 20
	m := newTestManager(t, func(c *Config) {
		c.MaxLogBytesPerProcess = perProcess
		c.MaxLogBytesTotal = total
	})
	a := mustStart(t, m, Spec{Command: "head -c 800000 /dev/zero"})
	waitEnded(t, a)
	if a.Log().Dropped() != 0 {
		t.Fatal("setup: a's log dropped output on its own")
	}
	b := mustStart(t, m, Spec{Command: "head -c 800000 /dev/zero | tr '\\0' b"})
	waitEnded(t, b)
	if a.Log().Dropped() == 0 {
		t.Fatal("the older process's log lost nothing although the total went over the budget")
	}
	if b.Log().Dropped() != 0 {
		t.Fatalf("the newer process lost %d bytes while older output was still kept", b.Log().Dropped())
	}
	segment := a.Log().segmentSize
	var onDisk int64
	entries, _ := os.ReadDir(m.cfg.LogDir)
	for _, e := range entries {
		if _, _, ok := parseSegmentFileName(e.Name()); !ok {
			continue // the records journal: not output
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		onDisk += info.Size()
	}
	retained := a.Log().retained() + b.Log().retained()
	if onDisk != retained {
		t.Errorf("%d bytes on disk, logs account for %d", onDisk, retained)
	}
	// The budget is checked when a segment starts, so one segment of slack.
	if onDisk > total+segment {
		t.Errorf("%d bytes on disk, budget %d (+%d slack)", onDisk, total, segment)
	}
	if text := logText(t, a.Log(), Both); !strings.HasPrefix(text, DropMarker(a.Log().Dropped())) {
		t.Errorf("a's output does not start with a drop marker: %.60q", text)
	}
	if n := len(logText(t, b.Log(), Stdout)); n != 800000 {
		t.Errorf("b's output is %d bytes, want all 800000", n)
	}
}

// TestShutdown: processes that obey SIGTERM end stopped, a pending restart
// is called off, an ended record keeps its status. The grace is the hang
// guard, so that however slow the machine, only a process ignoring SIGTERM
// could be killed; Shutdown returns as soon as all have ended.
func TestShutdown(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.RestartDelay = time.Hour })
	obeys := mustStart(t, m, Spec{Command: "exec sleep 100"})
	pending := mustStart(t, m, Spec{Command: "exit 1", RestartOnFailure: true, MaxRestarts: -1})
	done := mustStart(t, m, Spec{Command: "true"})
	waitEnded(t, done)
	eventually(t, "the restart delay", func() bool { return pending.currentPID() == 0 })

	m.Shutdown(hangGuard)
	for _, p := range []*Process{obeys, pending} {
		waitEnded(t, p)
	}
	for _, c := range []struct {
		p    *Process
		want Status
	}{{obeys, StatusStopped}, {pending, StatusStopped}, {done, StatusCompleted}} {
		if got := c.p.Info().Status; got != c.want {
			t.Errorf("%q: status %s, want %s", c.p.Info().Command, got, c.want)
		}
	}
	if _, err := m.Start(Spec{Command: "true"}); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Start after Shutdown = %v, want ErrShuttingDown", err)
	}
}

// TestShutdownEscalates: a process that ignores SIGTERM is killed, its
// group with it, once the (short) grace has passed.
func TestShutdownEscalates(t *testing.T) {
	m := newTestManager(t, nil)
	pidfile := filepath.Join(t.TempDir(), "bg.pid")
	ignores := mustStart(t, m, Spec{
		Command: `trap '' TERM; sleep 100 & echo $! > "$PIDFILE"; echo ready; sleep 100`,
		Env:     map[string]string{"PIDFILE": pidfile},
	})
	bg := readPIDFile(t, pidfile)
	eventually(t, "the TERM trap", func() bool { return logText(t, ignores.Log(), Stdout) == "ready\n" })

	m.Shutdown(time.Second)
	if info := waitEnded(t, ignores); info.Status != StatusKilled {
		t.Errorf("%q: status %s, want %s", info.Command, info.Status, StatusKilled)
	}
	waitSignaledBy(t, ignores, 9)
	eventually(t, "the background child to die", func() bool { return !pidAlive(bg) })
	if _, err := m.Start(Spec{Command: "true"}); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Start after Shutdown = %v, want ErrShuttingDown", err)
	}
}

// TestShutdownRacingStarts: starts in flight when Shutdown begins are
// either refused or ended by it; none is left running.
func TestShutdownRacingStarts(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.StopGrace = time.Second })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var started []*Process
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, err := m.Start(Spec{Command: "exec sleep 100"})
				if errors.Is(err, ErrShuttingDown) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				started = append(started, p)
				mu.Unlock()
				select {
				case <-stop:
				default:
				}
			}
		}()
	}
	eventually(t, "some starts", func() bool { mu.Lock(); defer mu.Unlock(); return len(started) >= 20 })
	// They all obey SIGTERM: with the hang guard as grace, Shutdown returns
	// once every one has ended, however slow the machine.
	m.Shutdown(hangGuard)
	close(stop)
	wg.Wait()
	for _, p := range started {
		select {
		case <-p.Done():
		default:
			t.Errorf("process %s started during Shutdown is still running (%s)", p.PID(), p.Info().Status)
			_ = p.Kill(testCtx(t), 0)
		}
	}
}
