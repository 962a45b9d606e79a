package process

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Recovered says what RecoverEarlierRun found in the log folder.
type Recovered struct {
	// Processes is the records of the earlier run now listed (within
	// MaxEndedProcesses).
	Processes int
	// Unsupervised is the pids of those the earlier daemon was running
	// when it died; StillRunning those of them that run on, unsupervised.
	Unsupervised, StillRunning []string
	// Removed is the log files of no record, removed.
	Removed int
	// SkippedLines is the journal lines that did not parse (cut by a crash).
	SkippedLines int
}

// UnsupervisedMarker is the line the log of a process ends with when the
// daemon that ran it died (a crash, a kill -9) and a new daemon found its
// record: the record and output are kept, but nothing watches the process
// any more, and its later output, if it still runs, is not kept (its pipes
// were the dead daemon's). stillRuns says that it was found running.
func UnsupervisedMarker(pid string, stillRuns bool) string {
	if stillRuns {
		return "[sandbox-api: the daemon restarted; this process is no longer supervised (pid " + pid + " still runs; its output is no longer kept)]\n"
	}
	return "[sandbox-api: the daemon restarted; this process is no longer supervised]\n"
}

// parseSegmentFileName reads the name of a log segment, p<id>-<index>.log
// (both decimal); ok is false for any other name. By hand rather than a
// regexp: compiling one at package init cost every start of the daemon.
func parseSegmentFileName(name string) (id uint64, index int, ok bool) {
	rest, okP := strings.CutPrefix(name, "p")
	rest, okL := strings.CutSuffix(rest, ".log")
	idText, indexText, okD := strings.Cut(rest, "-")
	if !okP || !okL || !okD || !allDigits(idText) || !allDigits(indexText) {
		return 0, 0, false
	}
	id, err1 := strconv.ParseUint(idText, 10, 64)
	index, err2 := strconv.Atoi(indexText)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return id, index, true
}

// allDigits: s is one or more ASCII digits (ParseUint alone takes "+1").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// RecoverEarlierRun lists the processes of the daemon that used the log
// folder before this one, from what the folder already holds: the records
// journal (records_journal.go) and the log segments. Call it once, before
// serving, on a fresh start (not when resuming from a hand-over: the state
// handed over already holds every record).
//
// A record whose end was written (a clean shutdown, or an earlier
// recovery) comes back as it ended. Any other was running when the daemon
// died: it comes back failed, exit code -1, ended now, its log closed by
// UnsupervisedMarker. Output is readable as before, drop markers included.
// The caps hold: the oldest ended records beyond MaxEndedProcesses, then the
// oldest output beyond the disk budget, go first. Newer records come after
// the earlier ones, so a pid or name that an earlier record shares with a
// new process finds the new one (Get: the newest wins). Log files of no
// record are removed.
func (m *Manager) RecoverEarlierRun() (Recovered, error) {
	var rep Recovered
	dir := m.cfg.LogDir
	_ = os.Remove(filepath.Join(dir, journalFileName+".tmp")) // a rewrite a crash cut
	entries, skipped, err := readJournal(filepath.Join(dir, journalFileName))
	if err != nil {
		// Files of an unknown journal are left alone: they may be a newer
		// daemon's.
		return rep, err
	}
	rep.SkippedLines = skipped
	m.mu.Lock()
	files := m.earlier
	m.earlier = nil
	m.mu.Unlock()
	if files == nil {
		if files, err = segmentFiles(dir); err != nil {
			return rep, err
		}
	}
	now := time.Now()
	var procs []*Process
	openLine := map[*Process]bool{} // unended records whose stdout ends inside a line
	for _, e := range entries {
		own := files[e.ID]
		delete(files, e.ID)
		p, open, err := m.earlierRecord(e, own, now)
		if err != nil {
			m.cfg.Logger.Warn("cannot read the log of an earlier process; its record is kept without output",
				zap.String("pid", e.PID), zap.String("name", e.Name), zap.Error(err))
			p, open, _ = m.earlierRecord(e, nil, now)
		}
		procs = append(procs, p)
		if !e.Ended {
			openLine[p] = open
		}
		if e.ID > m.ids.Load() {
			m.ids.Store(e.ID)
		}
	}
	for _, stale := range files {
		for _, f := range stale {
			if os.Remove(f.path) == nil {
				rep.Removed++
			}
		}
	}
	m.orderSegments(procs)

	m.mu.Lock()
	m.procs = append(procs, m.procs...)
	m.countEndedLocked()
	m.mu.Unlock()
	m.pruneEnded() // MaxEndedProcesses: the oldest go first
	kept := map[*Process]bool{}
	for _, p := range m.List() {
		kept[p] = true
	}
	for _, p := range procs {
		if kept[p] {
			rep.Processes++
		}
	}
	for _, p := range procs {
		open, unended := openLine[p]
		if !unended || !kept[p] {
			continue
		}
		rep.Unsupervised = append(rep.Unsupervised, p.pid)
		runs := stillRuns(p.pid, p.startedAt)
		if runs {
			rep.StillRunning = append(rep.StillRunning, p.pid)
		}
		if err := p.log.closeUnsupervised(UnsupervisedMarker(p.pid, runs), open); err != nil {
			m.cfg.Logger.Warn("cannot end the log of an earlier process with the restart notice",
				zap.String("pid", p.pid), zap.Error(err))
		}
	}
	m.enforceDiskBudget()
	// The journal now lists this run's view: the earlier records with the
	// ends found here, so that a later restart does not note them again.
	// A journal that listed nothing (a fresh folder: the first start of a
	// sandbox) already says so; writing it again would cost a file
	// creation and a rename on the way to serving.
	if len(entries) > 0 || skipped > 0 {
		m.journal.rewrite(m.List(), false)
	}
	return rep, nil
}

// earlierRecord is the record of an earlier run's process, ended: as its
// entry says, or failed now when it has no end. openLine tells whether its
// stdout ends inside a line.
func (m *Manager) earlierRecord(e journalEntry, files []segmentFile, now time.Time) (p *Process, openLine bool, err error) {
	prefix := "p" + strconv.FormatUint(e.ID, 10)
	log, lastStdout, hasStdout, err := reopenLog(m.cfg.LogDir, prefix, m.cfg.MaxLogBytesPerProcess, func() uint64 { return m.segSeq.Add(1) }, files)
	if err != nil {
		return nil, false, err
	}
	p = &Process{
		m:    m,
		id:   e.ID,
		pid:  e.PID,
		name: e.Name,
		spec: Spec{
			Command:          e.Command,
			Name:             e.Name,
			WorkingDir:       e.WorkingDir,
			KeepAlive:        e.KeepAlive,
			RestartOnFailure: e.RestartOnFailure,
			MaxRestarts:      e.MaxRestarts,
			Stdin:            e.Stdin,
		},
		requestedDir: e.RequestedDir,
		log:          log,
		done:         make(chan struct{}),
		earlier:      true,
		status:       StatusFailed,
		exitCode:     -1,
		startedAt:    e.StartedAt,
		completedAt:  now,
		wake:         make(chan struct{}, 1),
		stdinClosed:  true,
	}
	if e.Ended && endedStatus(e.Status) {
		p.status, p.exitCode, p.completedAt = e.Status, e.ExitCode, e.CompletedAt
	}
	p.ended.Store(true)
	close(p.done)
	return p, hasStdout && lastStdout != '\n', nil
}

// endedStatus tells whether s is the status of an ended process.
func endedStatus(s Status) bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusStopped, StatusKilled:
		return true
	}
	return false
}

// closeUnsupervised ends the log of a process the dead daemon was running
// with marker (UnsupervisedMarker), on a line of its own (openLine: the
// stdout so far ends inside a line), as its last line.
func (l *Log) closeUnsupervised(marker string, openLine bool) error {
	if err := l.reopenForAppend(); err != nil {
		l.Finish()
		return err
	}
	line := marker
	if openLine {
		line = "\n" + line
	}
	_, err := l.Append(Stdout, []byte(line))
	l.Finish()
	return err
}

// segmentFiles finds the log segments in dir, by process id.
func segmentFiles(dir string) (map[uint64][]segmentFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read log dir %s: %w", dir, err)
	}
	out := map[uint64][]segmentFile{}
	for _, e := range entries {
		id, index, ok := parseSegmentFileName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		out[id] = append(out[id], segmentFile{index: index, path: filepath.Join(dir, e.Name())})
	}
	return out, nil
}

// highestLogID is the highest process id among the log segments files
// (segmentFiles), so that new logs never take the file names of an earlier
// run's.
func highestLogID(files map[uint64][]segmentFile) uint64 {
	var highest uint64
	for id := range files {
		highest = max(highest, id)
	}
	return highest
}

// orderSegments numbers the segments of the earlier records by their last
// write, oldest first, before any of this run's: the disk budget drops the
// oldest output first, across every log.
func (m *Manager) orderSegments(procs []*Process) {
	type ref struct {
		seg   *segment
		mtime int64
	}
	var all []ref
	for _, p := range procs {
		for _, s := range p.log.segs {
			var mtime int64
			if st, err := os.Stat(s.path); err == nil {
				mtime = st.ModTime().UnixNano()
			}
			all = append(all, ref{s, mtime})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].mtime < all[j].mtime })
	for _, r := range all {
		r.seg.seq = m.segSeq.Add(1)
	}
}
