package process

import (
	"context"
	"fmt"
	"time"
)

// Wait blocks until the process ends. With timeout > 0 it gives up with
// ErrWaitTimeout after that long; the process keeps running.
func (p *Process) Wait(ctx context.Context, timeout time.Duration) error {
	return p.waitFor(ctx, timeout)
}

// waitFor is Wait for the lifecycle's own waits (stop and kill graces).
func (p *Process) waitFor(ctx context.Context, timeout time.Duration) error {
	return p.waitSpent(ctx, timeout, 0)
}

// waitSpent is Wait with a timeout whose time began spent earlier (the
// quick watch an exec ran before its wait: superviseHere). It says the
// whole timeout when it gives up.
func (p *Process) waitSpent(ctx context.Context, timeout, spent time.Duration) error {
	select {
	case <-p.done:
		return nil // an end that came first wins over a bound that ran out with it
	default:
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(max(timeout-spent, 0))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-p.done:
		return nil
	case <-expired:
		return TimeoutError(timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TimeoutError is the error of a wait for a process that gave up after d:
// it matches ErrWaitTimeout. Streams that give up use it too, so that every
// front door says it the same way.
func TimeoutError(d time.Duration) error {
	return fmt.Errorf("%w after %s", ErrWaitTimeout, durationText(d))
}

// durationText words a timeout in whole seconds as requests give them
// ("process timed out after 1 seconds", as the existing Blaxel daemon says
// it), any other duration in Go's notation.
func durationText(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
}
