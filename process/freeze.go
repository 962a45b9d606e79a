package process

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// Freeze stops the manager's work so that the next image of the daemon can
// take it over (Resume) after an in-place exec, or this one go on (Thaw).
// Nothing a process holds is closed or signalled: its pipes stay open and
// its exit, if it comes now, stays a zombie for the next wait.
//
// In order: new starts and client acts are refused (ErrSwitching) and
// those under way finish; the supervisors stop at their waits (none reaps
// a child from then on); lifetimes stop their timers; every pump stops at
// a clean point, with every byte it read in the log. Then the state is
// written: records, log positions, restart counters and pending restarts,
// lifetimes as times, and the descriptors (output pipes not yet at end of
// file, stdin pipes) in Files.
//
// Every wait in it is bounded (a stdin write under way, by
// StdinWriteTimeout, is the longest), so ctx is not needed to end it.
func (m *Manager) Freeze(ctx context.Context) (handover.Frozen, error) {
	if !m.pidfds {
		return handover.Frozen{}, ErrFreezeUnsupported
	}
	m.mu.Lock()
	switch {
	case m.closing:
		m.mu.Unlock()
		return handover.Frozen{}, ErrShuttingDown
	case m.frozen.Load():
		m.mu.Unlock()
		return handover.Frozen{}, ErrSwitching
	}
	m.frozen.Store(true)
	m.mu.Unlock()
	m.starting.Wait()
	m.acting.Lock()
	m.mu.Lock()
	m.haltNow()
	m.mu.Unlock()
	m.supervisors.Wait()
	m.tidy.wait()       // the pipes and pidfds of ended attempts closed
	m.forgetting.Wait() // the journal handed on says what was pruned

	procs := m.List()
	for _, p := range procs {
		p.stopLifetime()
	}
	outs := m.liveOutputs()
	for _, o := range outs {
		o.freeze()
	}
	st, files := m.snapshot(procs, outs)
	data, err := json.Marshal(st)
	if err != nil {
		_ = m.Thaw()
		return handover.Frozen{}, fmt.Errorf("encode the processes' state: %w", err)
	}
	return handover.Frozen{State: data, Files: files}, nil
}

// Thaw undoes Freeze when the switch was abandoned before the exec: the
// pumps, supervisors and lifetimes go on from where they stopped, and
// starts and acts are accepted again. It does nothing on a manager that is
// not frozen.
func (m *Manager) Thaw() error {
	if !m.frozen.Load() {
		return nil
	}
	m.mu.Lock()
	m.halt, m.haltNow = context.WithCancel(context.Background())
	m.mu.Unlock()
	m.run()
	m.mu.Lock()
	m.frozen.Store(false)
	m.mu.Unlock()
	m.acting.Unlock()
	return nil
}

// run starts the work of a manager that was frozen, or just resumed: a pump
// per open pipe, a supervisor per running record, the lifetimes' timers.
func (m *Manager) run() {
	for _, o := range m.liveOutputs() {
		o.run()
	}
	halt := m.haltContext()
	for _, p := range m.List() {
		if p.ended.Load() {
			continue
		}
		p.startLifetime()
		m.supervisors.Add(1)
		go p.supervise(halt)
	}
}
