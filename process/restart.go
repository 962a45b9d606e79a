package process

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// restartResult is how a restart ended.
type restartResult int

const (
	restartGaveUp  restartResult = iota // the process ends instead
	restartStarted                      // the next attempt runs
	restartHalted                       // a freeze came first: restartAt still says when
)

// restart waits until restartAt and starts the next attempt, noting it in
// the log ("Attempting restart n/max", the existing daemon's words). It
// gives up when the process must end instead (stopped meanwhile, daemon
// closing, or the new attempt could not start).
func (p *Process) restart(halt context.Context) restartResult {
	p.mu.Lock()
	due := p.restartAt
	p.mu.Unlock()
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.wake: // a stop: do not wait the delay out
	case <-halt.Done():
		return restartHalted
	}
	p.m.mu.Lock()
	closing := p.m.closing
	p.m.mu.Unlock()
	p.mu.Lock()
	p.restartAt = time.Time{}
	if p.intent != "" || closing {
		p.mu.Unlock()
		return restartGaveUp
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
		return restartGaveUp
	}
	return restartStarted
}
