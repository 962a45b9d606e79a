package process

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// The records journal is what a restart needs to list the processes of an
// earlier run (recover.go), zero-output ones included: a file of the log
// folder with one JSON line per process started and one per record
// forgotten. A start costs one small append to a file kept open (about a
// microsecond; a file per process would cost a file creation, hundreds of
// microseconds on some disks). The output itself needs nothing more: it is
// already in the log's segments, which describe themselves
// (log_segment_start.go).
//
// The file is written whole again, from the list of records, once it holds
// many more lines than records (see rewriteAfter), so it stays small
// however many processes a daemon starts. It holds no environment: a
// request's variables may be secrets.
const (
	journalFileName = "processes.jsonl"
	journalVersion  = 1
)

// journalRewriteMin is the fewest lines after which the journal is written
// whole again: few enough to keep it a few hundred kilobytes, many enough
// that the rewrite costs nothing per process on average.
const journalRewriteMin = 1024

// journalHeader is the first line of a journal, and says its format.
type journalHeader struct {
	Journal int `json:"sandboxApiProcessJournal"`
}

// journalEntry is one line after the header: a record as it started, its
// end when known (a record of an earlier run, or any record at a clean
// shutdown), or that the record was forgotten (pruned).
type journalEntry struct {
	ID               uint64    `json:"id"`
	Forget           bool      `json:"forget,omitzero"`
	PID              string    `json:"pid,omitzero"`
	Name             string    `json:"name,omitzero"`
	Command          string    `json:"command,omitzero"`
	WorkingDir       string    `json:"workingDir,omitzero"`
	RequestedDir     string    `json:"requestedDir,omitzero"`
	StartedAt        time.Time `json:"startedAt,omitzero"`
	KeepAlive        bool      `json:"keepAlive,omitzero"`
	RestartOnFailure bool      `json:"restartOnFailure,omitzero"`
	MaxRestarts      int       `json:"maxRestarts,omitzero"`
	Stdin            bool      `json:"stdin,omitzero"`
	// The end, on an "ended" line or a record written whole with its end.
	Ended       bool      `json:"ended,omitzero"`
	Status      Status    `json:"status,omitzero"`
	ExitCode    int       `json:"exitCode,omitzero"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// journal appends to the records journal of a log folder.
type journal struct {
	path   string
	logger *zap.Logger

	mu      sync.Mutex
	f       *os.File // nil until the first line (see openJournal), and once closed
	closed  bool
	lines   int  // lines in the file
	records int  // records the file lists, about: starts less forgets
	failed  bool // the last write failed; said once, until one succeeds
}

// openJournal opens the journal of dir for appending. What it already holds
// stays, for a restart to read. A folder with no journal gets one with the
// first line to write: a file creation costs a few hundred microseconds on
// some disks, on the way to serving, and a daemon that never starts a
// process has nothing to note.
func openJournal(dir string, logger *zap.Logger) (*journal, error) {
	j := &journal{path: filepath.Join(dir, journalFileName), logger: logger}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open process journal: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open process journal: %w", err)
	}
	if st.Size() == 0 {
		if _, err := f.Write(journalHeaderLine()); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("write process journal: %w", err)
		}
	} else {
		// An earlier run's lines: written whole at the first start, from
		// the records this run has (those of the earlier run if it
		// recovered them, see recover.go).
		j.lines = journalRewriteMin
	}
	j.f = f
	return j, nil
}

// createLocked makes the journal file, with its header, for the first line
// of a folder that had none.
func (j *journal) createLocked() error {
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create process journal: %w", err)
	}
	// Another daemon cannot have written it meanwhile: the folder is locked.
	if _, err := f.Write(journalHeaderLine()); err != nil {
		_ = f.Close()
		return fmt.Errorf("write process journal: %w", err)
	}
	j.f = f
	return nil
}

func journalHeaderLine() []byte {
	b, _ := json.Marshal(journalHeader{Journal: journalVersion})
	return append(b, '\n')
}

// entryOf is the line of a record: as it started, with its end when the
// record came from an earlier run or when withEnd asks for it.
func entryOf(p *Process, withEnd bool) journalEntry {
	e := journalEntry{
		ID:               p.id,
		PID:              p.pid,
		Name:             p.name,
		Command:          p.spec.Command,
		WorkingDir:       p.spec.WorkingDir,
		RequestedDir:     p.requestedDir,
		KeepAlive:        p.spec.KeepAlive,
		RestartOnFailure: p.spec.RestartOnFailure,
		MaxRestarts:      p.spec.MaxRestarts,
		Stdin:            p.spec.Stdin,
	}
	p.mu.Lock()
	e.StartedAt = p.startedAt
	if (withEnd || p.earlier) && p.ended.Load() {
		e.Ended, e.Status, e.ExitCode, e.CompletedAt = true, p.status, p.exitCode, p.completedAt
	}
	p.mu.Unlock()
	return e
}

// started notes a record that became visible. all gives the records, for
// when the file is due to be written whole: called with the journal's lock
// held, so that no start noted meanwhile can be missing from it.
func (j *journal) started(p *Process, all func() []*Process) {
	line, err := json.Marshal(entryOf(p, false))
	if err != nil {
		return // a record always encodes
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writeLocked(append(line, '\n'), 1)
	j.records++
	if j.lines > max(journalRewriteMin, 4*j.records) {
		j.rewriteLocked(all(), false)
	}
}

// forgot notes records that were pruned, with their logs.
func (j *journal) forgot(gone []*Process) {
	var buf []byte
	for _, p := range gone {
		line, _ := json.Marshal(journalEntry{ID: p.id, Forget: true})
		buf = append(append(buf, line...), '\n')
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writeLocked(buf, len(gone))
	j.records -= len(gone)
}

// rewrite writes the file whole from procs; withEnd records the end of
// those that ended (at a clean shutdown: a restart then lists them as they
// ended).
func (j *journal) rewrite(procs []*Process, withEnd bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rewriteLocked(procs, withEnd)
}

func (j *journal) writeLocked(buf []byte, lines int) {
	if j.closed || len(buf) == 0 {
		return
	}
	var err error
	if j.f == nil {
		err = j.createLocked()
	}
	if err == nil {
		_, err = j.f.Write(buf)
		j.lines += lines
	}
	if err != nil && !j.failed {
		j.logger.Warn("cannot write the process journal: a restart after a crash may not list every earlier process",
			zap.String("path", j.path), zap.Error(err))
	}
	j.failed = err != nil
}

// rewriteLocked writes the journal whole into a temporary file and renames
// it over the old one, so a crash leaves one or the other.
func (j *journal) rewriteLocked(procs []*Process, withEnd bool) {
	if j.closed {
		return // the daemon is ending
	}
	if j.f == nil && len(procs) == 0 {
		return // no file, and nothing to note in one
	}
	tmp := j.path + ".tmp"
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		_, _ = w.Write(journalHeaderLine())
		enc := json.NewEncoder(w)
		for _, p := range procs {
			_ = enc.Encode(entryOf(p, withEnd))
		}
		if err := w.Flush(); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp, j.path); err != nil {
			return err
		}
		next, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		if j.f != nil {
			_ = j.f.Close()
		}
		j.f, j.lines, j.records = next, len(procs), len(procs)
		return nil
	}()
	if err != nil {
		_ = os.Remove(tmp)
		j.logger.Warn("cannot rewrite the process journal", zap.String("path", j.path), zap.Error(err))
	}
}

// close ends the appends; the file stays for the next daemon.
func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
	j.closed = true
}

// errJournalFormat: the journal is of an unknown format (a newer daemon's).
var errJournalFormat = errors.New("unknown process journal format")

// readJournal gives the records a journal holds, in start order: each
// record's last line wins, forgotten records are left out. Lines that do not
// parse (a write cut by a crash) are skipped and counted.
func readJournal(path string) (entries []journalEntry, skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read process journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	first, err := r.ReadBytes('\n')
	if errors.Is(err, io.EOF) && len(first) == 0 {
		return nil, 0, nil
	}
	var h journalHeader
	if json.Unmarshal(first, &h) != nil || h.Journal != journalVersion {
		return nil, 0, fmt.Errorf("%w: %s", errJournalFormat, path)
	}
	byID := map[uint64]int{} // index in entries
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var e journalEntry
			if json.Unmarshal(line, &e) != nil || e.ID == 0 {
				skipped++
			} else if e.Forget {
				if i, ok := byID[e.ID]; ok {
					entries[i].ID = 0 // left out below
					delete(byID, e.ID)
				}
			} else if i, ok := byID[e.ID]; ok {
				entries[i] = e
			} else {
				byID[e.ID] = len(entries)
				entries = append(entries, e)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read process journal: %w", err)
		}
	}
	kept := entries[:0]
	for _, e := range entries {
		if e.ID != 0 {
			kept = append(kept, e)
		}
	}
	return kept, skipped, nil
}

// recordShutdown writes every record with its end, once Shutdown has
// stopped them, and closes the journal: the next daemon on the folder lists
// them as they ended. A process that outlived the shutdown has no end
// written, and is listed as unsupervised.
func (m *Manager) recordShutdown() {
	m.forgetting.Wait()
	m.journal.rewrite(m.List(), true)
	m.journal.close()
}
