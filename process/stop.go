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
// grace, and returns once the process has ended (or ctx is done).
func (p *Process) Stop(ctx context.Context) error {
	p.requestStop(StatusStopped, sigTERM)
	if p.waitFor(ctx, p.m.cfg.StopGrace) == nil {
		return nil
	}
	p.mu.Lock()
	p.signalLocked(sigKILL)
	p.mu.Unlock()
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
	previous := p.requestStop(StatusKilled, sig)
	err := p.waitFor(ctx, p.m.cfg.StopGrace)
	if errors.Is(err, ErrWaitTimeout) && sig != sigKILL {
		p.mu.Lock()
		if !p.ended.Load() && p.intent == StatusKilled {
			p.intent = previous
		}
		p.mu.Unlock()
	}
	return err
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
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}
