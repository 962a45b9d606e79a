package process

import (
	"fmt"
	"time"
)

// armLifetime bounds the life of a keepAlive process: Spec.Timeout, else
// the manager's KeepAliveTimeout; 0 means none. A process without
// keepAlive has no lifetime: the waits of its callers are bounded instead,
// and a wait that gives up leaves it running.
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
	p.lifetime = time.AfterFunc(lifetime, func() { p.expire(lifetime) })
	p.mu.Unlock()
}

// expire ends a keepAlive process whose lifetime elapsed, saying so in its
// log, where whoever reads the output will see why it ended.
func (p *Process) expire(after time.Duration) {
	if p.ended.Load() {
		return
	}
	_, _ = p.log.Append(Stderr, []byte(fmt.Sprintf("[sandbox-api: keepAlive timeout of %s elapsed, killing the process]\n", after)))
	p.requestStop(StatusKilled, sigKILL)
}
