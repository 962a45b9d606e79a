package process

import (
	"context"
	"time"
)

// DefaultPortsWait bounds the wait for WaitForPorts when the request gives
// no timeout: a server that never listens must not hold its caller forever,
// and a minute covers a slow first build.
const DefaultPortsWait = 60 * time.Second

// ExecuteRequest is what both front doors ask of Execute: a process to
// start (Spec) and what to wait for before answering. A field the process
// itself needs goes in Spec; a field about the answer goes here.
type ExecuteRequest struct {
	Spec
	// WaitForPorts are TCP ports that must listen (on any address) before
	// Execute returns: the request starts a server.
	WaitForPorts []int
	// WaitForCompletion makes Execute return only once the process ended.
	WaitForCompletion bool
	// Waits bound each wait when Spec.Timeout is nil or 0; a Spec.Timeout
	// above 0 bounds both instead. Each front door sets its own, on purpose.
	Waits Waits
}

// Waits are the bounds of Execute's waits that a request without a timeout
// gets. Zero means no bound.
type Waits struct {
	Ports      time.Duration // for WaitForPorts
	Completion time.Duration // for WaitForCompletion
}

// validate refuses, before anything starts, a request Execute would
// refuse: the ports first, then the spec (as Start checks it).
func (r *ExecuteRequest) validate() error {
	if err := ValidatePorts(r.WaitForPorts); err != nil {
		return err
	}
	return r.Spec.validate()
}

// Execute starts the request's process, then waits for its ports and then
// for its end, as asked. It returns the process whenever it started: with
// a nil error when everything waited for happened, or with the wait's
// error (ErrPortsTimeout, ErrExited, ErrWaitTimeout or ctx's), and the
// process keeps running. A nil process comes with Start's error (or
// Validate's). Neither wait kills the process: only a keepAlive lifetime
// does (see Spec.Timeout).
func (m *Manager) Execute(ctx context.Context, r ExecuteRequest) (*Process, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	// An exec that waits for the end and nothing else supervises the start
	// of it itself (superviseHere), its wait bound counted from before.
	here := r.WaitForCompletion && len(r.WaitForPorts) == 0
	p, err := m.start(r.Spec, here)
	if err != nil {
		return nil, err
	}
	defer p.awaitJournaled() // written while the process ran: see start
	if here {
		began, bound := time.Now(), r.bound(r.Waits.Completion)
		p.superviseHere(m.haltContext(), bound)
		return p, p.waitSpent(ctx, bound, time.Since(began))
	}
	if len(r.WaitForPorts) > 0 {
		if err := p.WaitForPorts(ctx, r.WaitForPorts, r.bound(r.Waits.Ports)); err != nil {
			return p, err
		}
	}
	if r.WaitForCompletion {
		if err := p.Wait(ctx, r.bound(r.Waits.Completion)); err != nil {
			return p, err
		}
	}
	return p, nil
}

// bound is the request's timeout when it gives one above 0, else fallback.
func (r *ExecuteRequest) bound(fallback time.Duration) time.Duration {
	if r.Timeout != nil && *r.Timeout > 0 {
		return *r.Timeout
	}
	return fallback
}
