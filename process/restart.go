package process

import (
	"fmt"
	"strconv"
	"time"
)

// restart waits the restart delay and starts the next attempt, noting it in
// the log ("Attempting restart n/max", the existing daemon's words). It
// reports false when the process must end instead (stopped meanwhile,
// daemon closing, or the new attempt could not start).
func (p *Process) restart() bool {
	t := time.NewTimer(p.m.cfg.RestartDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.wake: // a stop: do not wait the delay out
	}
	p.m.mu.Lock()
	closing := p.m.closing
	p.m.mu.Unlock()
	p.mu.Lock()
	if p.intent != "" || closing {
		p.mu.Unlock()
		return false
	}
	p.restartCount++
	limit := "unlimited"
	if p.spec.MaxRestarts >= 0 {
		limit = strconv.Itoa(p.spec.MaxRestarts)
	}
	notice := fmt.Sprintf("Attempting restart %d/%s\n", p.restartCount, limit)
	p.mu.Unlock()
	_, _ = p.log.Append(Stdout, []byte(notice))
	if err := p.spawn(); err != nil {
		_, _ = p.log.Append(Stderr, []byte(fmt.Sprintf("restart failed: %v\n", err)))
		return false
	}
	return true
}
