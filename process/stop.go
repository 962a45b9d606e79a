package process

import (
	"context"
	"errors"
	"syscall"
)

// The signals of a stop: SIGTERM asks, SIGKILL ends.
const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

// Stop sends SIGTERM to the process group, SIGKILL after the manager's stop
// grace, and returns once the process has ended (or ctx is done). It fails
// with ErrSwitching while the daemon switches to a new binary.
func (p *Process) Stop(ctx context.Context) error {
	if err := p.clientStop(StatusStopped, sigTERM, nil); err != nil {
		return err
	}
	if p.waitFor(ctx, p.m.cfg.StopGrace) == nil {
		return nil
	}
	if err := p.clientStop(StatusStopped, sigKILL, nil); err != nil {
		return err
	}
	return p.waitFor(ctx, 0)
}

// Kill sends sig (SIGKILL when zero) to the process group and waits, up to
// the stop grace, for the process to end. A process that outlives a signal
// it handles is not recorded as killed: if it ends later on its own, its
// status says how.
func (p *Process) Kill(ctx context.Context, sig syscall.Signal) error {
	if sig == 0 {
		sig = sigKILL
	}
	var previous Status
	if err := p.clientStop(StatusKilled, sig, &previous); err != nil {
		return err
	}
	err := p.waitFor(ctx, p.m.cfg.StopGrace)
	if errors.Is(err, ErrWaitTimeout) && sig != sigKILL {
		if release, aerr := p.m.act(); aerr == nil {
			p.mu.Lock()
			if !p.ended.Load() && p.intent == StatusKilled {
				p.intent = previous
			}
			p.mu.Unlock()
			release()
		}
	}
	return err
}

// clientStop is requestStop for a client, refused while the manager is
// frozen (see Manager.act). previous, when set, receives the intent
// recorded before.
func (p *Process) clientStop(intent Status, sig syscall.Signal, previous *Status) error {
	release, err := p.m.act()
	if err != nil {
		return err
	}
	defer release()
	was := p.requestStop(intent, sig)
	if previous != nil {
		*previous = was
	}
	return nil
}

// requestStop records why the process is being ended and signals its group.
// A kill overrides an earlier stop; a stop never overrides a kill. It
// returns the intent recorded before.
func (p *Process) requestStop(intent Status, sig syscall.Signal) (previous Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	previous = p.intent
	if p.ended.Load() {
		return previous
	}
	if p.intent == "" || intent == StatusKilled {
		p.intent = intent
	}
	p.signalLocked(sig)
	select { // interrupt a pending restart
	case p.wake <- struct{}{}:
	default:
	}
	return previous
}

// signalLocked signals the process group, only while its leader has not
// been waited for, so the group id cannot have been reused.
func (p *Process) signalLocked(sig syscall.Signal) {
	if p.alive {
		_ = syscall.Kill(-p.att.pid, sig)
	}
}
