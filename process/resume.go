package process

import (
	"fmt"
	"os"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// Resume builds a manager from the state an earlier image of the daemon
// froze (Freeze), in the same OS process after an in-place exec: Files are
// the same descriptors, in the same order, and every running attempt is
// still this process's child (a zombie if it exited meanwhile, reaped here
// with its exit status). The log folder is left as it is.
//
// Everything is checked before anything starts. On failure nothing was
// started and no descriptor of f was closed: the caller hands them on
// again (to the earlier binary, which rolls the switch back). On success
// the manager owns them.
func Resume(cfg Config, f handover.Frozen) (*Manager, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	var st frozenManager
	if err := f.ReadState(&st, stateVersion); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHandover, err)
	}
	// The journal goes on where the earlier image left it: its records
	// are this manager's (a crash after the switch lists them all).
	j, err := openJournal(cfg.LogDir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("%w: log dir %s: %v", ErrHandover, cfg.LogDir, err)
	}
	m, err := newManager(cfg, j)
	if err != nil {
		j.close()
		return nil, fmt.Errorf("%w: %v", ErrHandover, err)
	}
	m.ids.Store(st.IDs)
	m.segSeq.Store(st.SegSeq)
	r := resumer{m: m, files: f.Files, self: os.Getpid()}
	if err := r.build(st); err != nil {
		r.undo()
		j.close()
		return nil, fmt.Errorf("%w: %v", ErrHandover, err)
	}
	// The children first, then the reaper: it must never take the status
	// of one it does not know yet. Orphans that became zombies during the
	// switch signalled a SIGCHLD no one saw: the scan the reaper makes as
	// it starts (run) reaps them.
	for _, p := range m.procs {
		if a := p.att; a != nil && !a.reaped {
			m.reaper.adopt(a.pid)
		}
	}
	m.startReaper()
	m.run()
	return m, nil
}

// resumer rebuilds the records and outputs of a frozen manager.
type resumer struct {
	m     *Manager
	files []*os.File
	self  int
	logs  []*Log // reopened, closed again should the resume fail
}

func (r *resumer) file(i int) (*os.File, error) {
	if i < 0 {
		return nil, nil
	}
	if i >= len(r.files) || r.files[i] == nil {
		return nil, fmt.Errorf("descriptor %d of the state was not handed over", i)
	}
	return r.files[i], nil
}

func (r *resumer) build(st frozenManager) error {
	m := r.m
	byID := make(map[uint64]*Process, len(st.Processes))
	for _, fp := range st.Processes {
		p, err := r.process(fp)
		if err != nil {
			return fmt.Errorf("process %s (%s): %w", fp.PID, fp.Name, err)
		}
		byID[p.id] = p
		m.procs = append(m.procs, p)
		if p.ended.Load() {
			m.ended++
		} else {
			m.names[p.name] = p
		}
	}
	outs := make([]*output, len(st.Outputs))
	for i, fo := range st.Outputs {
		stdout, err := r.file(fo.Stdout)
		if err != nil {
			return err
		}
		stderr, err := r.file(fo.Stderr)
		if err != nil {
			return err
		}
		p := byID[fo.Process]
		if p == nil {
			p = r.forgotten()
		}
		outs[i] = m.newOutput(p, stdout, stderr)
	}
	for i, fp := range st.Processes {
		if fa := fp.Attempt; fa != nil {
			p := m.procs[i]
			if fa.Output >= 0 {
				if fa.Output >= len(outs) {
					return fmt.Errorf("process %s: output %d is not in the state", fp.PID, fa.Output)
				}
				p.att.out = outs[fa.Output]
			} else {
				p.att.out = m.newOutput(p, nil, nil) // at end of file already
			}
		}
	}
	return nil
}

// process rebuilds one record, its log and its last attempt.
func (r *resumer) process(fp frozenProcess) (*Process, error) {
	m := r.m
	l, err := resumeLog(m.cfg.LogDir, fp.Log, func() uint64 { return m.segSeq.Add(1) })
	if err != nil {
		return nil, err
	}
	r.logs = append(r.logs, l)
	p := &Process{
		m: m, id: fp.ID, pid: fp.PID, name: fp.Name, spec: fp.Spec, requestedDir: fp.RequestedDir,
		log: l, done: make(chan struct{}), wake: make(chan struct{}, 1),
		status: fp.Status, exitCode: fp.ExitCode, startedAt: fp.StartedAt, completedAt: fp.CompletedAt,
		restartCount: fp.RestartCount, alive: fp.Alive, intent: fp.Intent, stdinClosed: fp.StdinClosed,
		restartAt: fp.RestartAt, lifetimeAt: fp.LifetimeAt, lifetimeOf: fp.LifetimeOf,
		earlier: fp.Earlier,
	}
	if fp.Ended {
		p.ended.Store(true)
		close(p.done)
	}
	stdin, err := r.file(fp.Stdin)
	if err != nil {
		return nil, err
	}
	if stdin != nil {
		p.stdin = newStdinPipe(stdin)
	}
	if fa := fp.Attempt; fa != nil {
		a := &attempt{pid: fa.PID, pidfd: -1, reaped: fa.Reaped, code: fa.Code}
		if !a.reaped {
			if err := r.child(fa.PID); err != nil {
				return nil, err
			}
		}
		p.att = a
	} else if !fp.Ended {
		return nil, fmt.Errorf("a running record without an attempt")
	}
	return p, nil
}

// child finds a running attempt: it must still be this process's child,
// not reaped (a zombie at worst), or its pid could be another process's.
func (r *resumer) child(pid int) error {
	state, ppid, ok := readStat(pid, make([]byte, 512))
	if !ok || ppid != r.self || state == 'X' {
		return fmt.Errorf("pid %d is no longer a child of the daemon", pid)
	}
	return nil
}

// forgotten stands for a record pruned before the freeze whose pipes a
// background child still holds: its output is read, so that the child
// never gets SIGPIPE, and dropped, as it was before the switch.
func (r *resumer) forgotten() *Process {
	l := newLog(r.m.cfg.LogDir, "gone", r.m.cfg.MaxLogBytesPerProcess, func() uint64 { return r.m.segSeq.Add(1) })
	l.finished, l.removed = true, true
	return &Process{m: r.m, log: l, done: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// undo closes what build opened; f's descriptors stay open.
func (r *resumer) undo() {
	for _, l := range r.logs {
		l.closeWriter()
	}
}
