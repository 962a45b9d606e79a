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
// ErrShuttingDown or ErrSwitching. It does not wait for anything: Execute does.
func (m *Manager) Start(spec Spec) (*Process, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	requestedDir := spec.WorkingDir
	wd, err := m.resolveWorkingDir(spec.Command, spec.WorkingDir)
	if err != nil {
		return nil, err
	}
	spec.WorkingDir = wd
	name, err := m.reserveName(spec.Name)
	if err != nil {
		return nil, err
	}
	defer m.startDone()
	id := m.ids.Add(1)
	p := &Process{
		m:            m,
		id:           id,
		name:         name,
		spec:         spec,
		requestedDir: requestedDir,
		log:          newLog(m.cfg.LogDir, "p"+strconv.FormatUint(id, 10), m.cfg.MaxLogBytesPerProcess, func() uint64 { return m.segSeq.Add(1) }),
		done:         make(chan struct{}),
		status:       StatusRunning,
		wake:         make(chan struct{}, 1),
	}
	p.startedAt = time.Now()
	if err := p.spawn(); err != nil {
		m.releaseName(name)
		p.log.Remove()
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	p.pid = strconv.Itoa(p.att.pid)
	m.add(p)
	m.journal.started(p, m.List) // before it can end and be pruned: a restart lists it
	p.armLifetime()
	m.supervisors.Add(1)
	go p.supervise(m.haltContext())
	return p, nil
}

// resolveWorkingDir makes dir absolute and checks that it is a folder. The
// missing folder is worded as the existing Blaxel daemon words it, since
// clients match on that text.
func (m *Manager) resolveWorkingDir(command, dir string) (string, error) {
	if dir == "" {
		dir = m.cfg.WorkingDir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(m.cfg.WorkingDir, dir)
	}
	leave := m.cfg.User.Enter() // what the user may not see does not exist
	st, err := os.Stat(dir)
	leave()
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%w: could not execute command '%s' because folder '%s' does not exist", ErrStart, command, dir)
	case err != nil:
		return "", fmt.Errorf("%w: working directory %s: %v", ErrStart, dir, err)
	case !st.IsDir():
		return "", fmt.Errorf("%w: working directory %s is not a directory", ErrStart, dir)
	}
	return dir, nil
}
