package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Start validates spec, starts the command and returns its record. Errors
// wrap ErrInvalidSpec (bad request), ErrNameInUse, ErrStart,
// ErrShuttingDown or ErrSwitching. It waits for nothing but the record's
// line in the journal (see start): Execute waits for the rest.
func (m *Manager) Start(spec Spec) (*Process, error) {
	p, err := m.start(spec, false)
	if err != nil {
		return nil, err
	}
	p.awaitJournaled()
	return p, nil
}

// start is Start without the wait for the record's line in the records
// journal. The line is written while the child runs (noteStarted), off
// the way of the exec it answers: on the 2-core VM, written before the
// supervisor's watch began, it cost an exec-and-wait some 8 µs
// (docs/measured.md). Start's and Execute's answers wait for the line
// (awaitJournaled), so a restart after a crash lists every record those
// answers showed. A list that another client asks for in the moment
// between the record's adding and its line may show it a moment early,
// as before this change (the record was added before its line then too).
//
// The supervision starts on a goroutine of its own, or, with here, is the
// caller's to start at once (superviseHere): the caller then waits for the
// end, and start has counted the supervision already.
func (m *Manager) start(spec Spec, here bool) (_ *Process, err error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	requestedDir := spec.WorkingDir
	spec.WorkingDir = m.absWorkingDir(spec.WorkingDir)
	name, err := m.reserveName(spec.Name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			m.startDone() // a start that went on is done once its line is (noteStarted)
		}
	}()
	id := m.ids.Add(1)
	p := &Process{
		m:            m,
		id:           id,
		name:         name,
		spec:         spec,
		requestedDir: requestedDir,
		log:          newLog(m.cfg.LogDir, "p"+strconv.FormatUint(id, 10), m.cfg.MaxLogBytesPerProcess, func() uint64 { return m.segSeq.Add(1) }),
		done:         make(chan struct{}),
		journaled:    make(chan struct{}),
		status:       StatusRunning,
		wake:         make(chan struct{}, 1),
	}
	p.startedAt = time.Now()
	if err := p.spawn(); err != nil {
		m.releaseName(name)
		p.log.Remove()
		if derr := m.checkWorkingDir(spec.Command, spec.WorkingDir); derr != nil {
			return nil, derr
		}
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	p.pid = strconv.Itoa(p.att.pid)
	m.add(p)
	// On one processor, the supervisor's go below takes the next turn, and
	// the line is written once the supervisor's watch gives it up.
	go p.noteStarted()
	p.armLifetime()
	m.supervisors.Add(1)
	if !here {
		go p.supervise(m.haltContext())
	}
	return p, nil
}

// noteStarted writes the record's line in the records journal, so that a
// restart lists it, then ends the start: a shutdown or a freeze, which
// wait for starts, find the line written.
func (p *Process) noteStarted() {
	defer p.m.startDone()
	defer close(p.journaled)
	if p.m.beforeJournalStart != nil {
		p.m.beforeJournalStart()
	}
	p.m.journal.started(p, p.m.List)
}

// awaitJournaled returns once the record's line is in the records journal
// (at once for a record an earlier run or image of the daemon journaled).
func (p *Process) awaitJournaled() {
	if p.journaled != nil {
		<-p.journaled
	}
}

// absWorkingDir is dir made absolute against the daemon's working
// directory ("" is that directory).
func (m *Manager) absWorkingDir(dir string) string {
	if dir == "" {
		return m.cfg.WorkingDir
	}
	if !filepath.IsAbs(dir) {
		return filepath.Join(m.cfg.WorkingDir, dir)
	}
	return dir
}

// checkWorkingDir says why a start failed when its working directory is
// the cause. A start does not look first: the child's chdir fails for a
// folder that is missing, no folder, or closed to the user, and a look
// on every start cost an exec some 4 µs on its way to the fork. The
// missing folder is worded as the existing Blaxel daemon words it, since
// clients match on that text.
func (m *Manager) checkWorkingDir(command, dir string) error {
	leave := m.cfg.User.Enter() // what the user may not see does not exist
	st, err := os.Stat(dir)
	leave()
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: could not execute command '%s' because folder '%s' does not exist", ErrStart, command, dir)
	case err != nil:
		return fmt.Errorf("%w: working directory %s: %v", ErrStart, dir, err)
	case !st.IsDir():
		return fmt.Errorf("%w: working directory %s is not a directory", ErrStart, dir)
	}
	return nil
}
