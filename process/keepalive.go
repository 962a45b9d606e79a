package process

import (
	"fmt"
	"time"
)

// armLifetime bounds the life of a keepAlive process: Spec.Timeout, else
// the manager's KeepAliveTimeout; 0 means none. A process without
// keepAlive has no lifetime: the waits of its callers are bounded instead,
// and a wait that gives up leaves it running. The end is kept as a time
// (lifetimeAt), which a freeze hands on as it is.
func (p *Process) armLifetime() {
	if !p.spec.KeepAlive {
		return
	}
	lifetime := p.m.cfg.KeepAliveTimeout
	if p.spec.Timeout != nil {
		lifetime = *p.spec.Timeout
	}
	if lifetime <= 0 {
		return
	}
	p.mu.Lock()
	p.lifetimeAt, p.lifetimeOf = time.Now().Add(lifetime), lifetime
	p.mu.Unlock()
	p.startLifetime()
}

// startLifetime sets the timer of lifetimeAt, if any: at the start, and
// after a thaw or a resume (a lifetime already over ends the process at
// once).
func (p *Process) startLifetime() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lifetimeAt.IsZero() || p.ended.Load() {
		return
	}
	p.lifetime = time.AfterFunc(time.Until(p.lifetimeAt), p.expire)
}

// stopLifetime stops the timer for a freeze; lifetimeAt stays. An expiry
// already under way has finished (Freeze holds acting), and one that fires
// now finds the manager frozen and does nothing.
func (p *Process) stopLifetime() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lifetime != nil {
		p.lifetime.Stop()
		p.lifetime = nil
	}
}

// expire ends a keepAlive process whose lifetime elapsed, saying so in its
// log, where whoever reads the output will see why it ended.
func (p *Process) expire() {
	release, err := p.m.act()
	if err != nil {
		return // frozen: lifetimeAt goes on with the state
	}
	defer release()
	p.mu.Lock()
	due := !p.lifetimeAt.IsZero() && !p.ended.Load()
	after := p.lifetimeOf
	p.lifetimeAt = time.Time{} // done: a thaw or a resume must not do it again
	p.mu.Unlock()
	if !due {
		return
	}
	_, _ = p.log.Append(Stderr, []byte(fmt.Sprintf("[sandbox-api: keepAlive timeout of %s elapsed, killing the process]\n", after)))
	p.requestStop(StatusKilled, sigKILL)
}
