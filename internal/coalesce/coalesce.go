// Package coalesce turns a burst of events into one delayed call: the
// first Arm since the call last came sets a timer, and the Arms after it,
// until then, change nothing. Arming costs the event's path an atomic
// compare-and-swap, and once per burst a timer reset: that reset wakes the
// runtime's poller thread when the delay ends before the poller's next
// wake-up, and nothing else wakes until the delay is over. The daemon's
// log sink batches its lines this way, the orphan reaper its scans, and
// the process manager the tidying after an end.
package coalesce

import (
	"sync/atomic"
	"time"
)

// Timer calls its function once per burst of Arms (see the package doc).
type Timer struct {
	armed atomic.Bool
	t     *time.Timer
}

// New returns a Timer, not armed, that calls f on a goroutine of its own.
func New(f func()) *Timer {
	c := &Timer{t: time.AfterFunc(time.Hour, f)}
	c.t.Stop()
	return c
}

// Arm calls f after d, unless the Timer is armed already.
func (c *Timer) Arm(d time.Duration) {
	if c.armed.CompareAndSwap(false, true) {
		c.t.Reset(d)
	}
}

// Armed reports whether an Arm since the last Disarm set the timer: the
// Arms until the next Disarm cost no timer reset.
func (c *Timer) Armed() bool { return c.armed.Load() }

// Disarm lets the next Arm set the timer again. Its owner calls it as it
// takes up the burst (when f has run, or it handles the events without
// waiting): events from then on start the next burst.
func (c *Timer) Disarm() { c.armed.Store(false) }

// Stop cancels a call not made yet; the Timer stays armed.
func (c *Timer) Stop() { c.t.Stop() }
