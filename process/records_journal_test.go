package process

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestJournalStaysSmall: however many processes start and are pruned, the
// journal is rewritten to about the records kept.
func TestJournalStaysSmall(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.MaxEndedProcesses = 2 })
	path := filepath.Join(m.cfg.LogDir, journalFileName)
	for i := 0; i < journalRewriteMin+50; i++ {
		waitEnded(t, mustStart(t, m, Spec{Command: "true"}))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(data, []byte("\n")); lines > journalRewriteMin+10 {
		t.Errorf("the journal has %d lines after %d starts", lines, journalRewriteMin+50)
	}
	var want []uint64
	for _, p := range m.List() {
		want = append(want, p.id)
	}
	// The last end's pruning writes its line just after the end.
	var ids []uint64
	eventually(t, "the journal to list what the manager lists", func() bool {
		entries, _, err := readJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		return slices.Equal(ids, want)
	})
}

// BenchmarkJournalPerProcess is what the journal adds to each process: the
// line of its start and, once the ended records are at their cap, the line
// of one forgotten (rewrites included, as they come). Compare with
// BenchmarkStartWait's managed-µs/op: the whole cost of a process.
func BenchmarkJournalPerProcess(b *testing.B) {
	j, err := openJournal(b.TempDir(), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	m := &Manager{}
	var procs []*Process
	all := func() []*Process { return procs }
	for i := 0; i < b.N; i++ {
		p := &Process{m: m, id: uint64(i + 1), pid: "12345", name: "proc-" + string(rune('a'+i%26)),
			spec: Spec{Command: "npm run dev -- --port 3000", WorkingDir: "/home/user/app"}, startedAt: time.Now()}
		procs = append(procs, p)
		j.started(p, all)
		if len(procs) > DefaultMaxEndedProcesses {
			j.forgot(procs[:1])
			procs = procs[1:]
		}
	}
}

// TestJournalComesWithTheFirstProcess: a fresh folder gets its journal with
// the first start, not at the manager's creation (a file creation less on
// the way to serving), and a manager that started nothing leaves none; the
// first start's record is in it, readable by a restart.
func TestJournalComesWithTheFirstProcess(t *testing.T) {
	idle := newTestManager(t, nil)
	if _, err := idle.RecoverEarlierRun(); err != nil {
		t.Fatal(err)
	}
	idle.Shutdown(time.Second)
	if _, err := os.Stat(filepath.Join(idle.cfg.LogDir, journalFileName)); !os.IsNotExist(err) {
		t.Errorf("a manager that started nothing left a journal: %v", err)
	}

	m := newTestManager(t, nil)
	path := filepath.Join(m.cfg.LogDir, journalFileName)
	if _, err := m.RecoverEarlierRun(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("journal before any start: %v, want none", err)
	}
	p := mustStart(t, m, Spec{Command: "true", Name: "first"})
	entries, skipped, err := readJournal(path)
	if err != nil || skipped != 0 || len(entries) != 1 || entries[0].Name != "first" || entries[0].PID != p.PID() {
		t.Fatalf("journal after the first start: %+v, %d skipped, %v", entries, skipped, err)
	}
}

// TestAnswersFollowTheJournalLine: a start's line in the records journal
// is written while its process runs, and neither Execute nor Start returns
// the record before it is written: a restart after a crash lists every
// record an answer showed. The line is held back here (beforeJournalStart)
// until the process has ended.
func TestAnswersFollowTheJournalLine(t *testing.T) {
	for _, viaExecute := range []bool{true, false} {
		m := newTestManager(t, nil)
		path := filepath.Join(m.cfg.LogDir, journalFileName)
		reached, release := make(chan struct{}), make(chan struct{})
		var releaseOnce sync.Once
		letGo := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(letGo) // before the manager's shutdown, which waits for the start
		m.beforeJournalStart = func() { close(reached); <-release }
		type answer struct {
			err     error
			listed  bool // the journal lists the record as the answer comes
			readErr error
		}
		answers := make(chan answer, 1)
		go func() {
			var p *Process
			var err error
			if viaExecute {
				p, err = m.Execute(context.Background(), ExecuteRequest{Spec: Spec{Command: "true"}, WaitForCompletion: true})
			} else {
				p, err = m.Start(Spec{Command: "true"})
			}
			a := answer{err: err}
			if p != nil {
				// No t.Error here: this goroutine may outlive a failed test.
				var entries []journalEntry
				entries, _, a.readErr = readJournal(path)
				a.listed = slices.ContainsFunc(entries, func(e journalEntry) bool { return e.ID == p.id })
			}
			answers <- a
		}()
		select {
		case <-reached:
		case <-time.After(hangGuard):
			t.Fatal("the start's journal line was never written")
		}
		var procs []*Process
		eventually(t, "the record listed", func() bool { procs = m.List(); return len(procs) == 1 })
		waitEnded(t, procs[0])
		select {
		case a := <-answers:
			t.Fatalf("execute %v: answered (%v) before the record's journal line was written", viaExecute, a.err)
		default:
		}
		letGo()
		select {
		case a := <-answers:
			if a.readErr != nil {
				t.Fatalf("execute %v: reading the journal: %v", viaExecute, a.readErr)
			}
			if a.err != nil || !a.listed {
				t.Fatalf("execute %v: error %v, the journal listed the record as the answer came: %v; want nil and true", viaExecute, a.err, a.listed)
			}
		case <-time.After(hangGuard):
			t.Fatalf("execute %v: no answer once the journal line was written", viaExecute)
		}
	}
}
