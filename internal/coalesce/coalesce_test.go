package coalesce

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestTimerCallsOncePerBurst(t *testing.T) {
	var calls atomic.Int32
	fired := make(chan struct{}, 10)
	c := New(func() { calls.Add(1); fired <- struct{}{} })
	c.Arm(time.Millisecond)
	c.Arm(time.Millisecond) // the same burst: no second call
	c.Arm(time.Hour)        // nor a later one
	waitFired(t, fired)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls for one burst, want 1", n)
	}
	// Still armed until its owner takes the burst up: the call does not
	// disarm it (Arms from then on would be lost from the owner's view).
	if !c.armed.Load() {
		t.Fatal("the call disarmed the timer; only its owner does")
	}
	c.Disarm()
	c.Arm(time.Millisecond) // the next burst
	c.Arm(time.Hour)        // the same burst: it must not push the call back
	waitFired(t, fired)
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d calls for two bursts, want 2", n)
	}
}

func TestTimerStopCancels(t *testing.T) {
	fired := make(chan struct{}, 1)
	c := New(func() { fired <- struct{}{} })
	c.Arm(time.Hour)
	c.Stop()
	c.Disarm()
	c.Arm(time.Millisecond) // a timer stopped is set again by the next burst
	waitFired(t, fired)
}

func waitFired(t *testing.T, fired <-chan struct{}) {
	t.Helper()
	select {
	case <-fired:
	case <-time.After(testsupport.HangGuard):
		t.Fatalf("no call within %s", testsupport.HangGuard)
	}
}

func TestTimerArmedUntilDisarmed(t *testing.T) {
	c := New(func() {})
	defer c.Stop()
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"new", func() {}, false},
		{"armed", func() { c.Arm(time.Hour) }, true},
		{"armed again", func() { c.Arm(time.Hour) }, true},
		{"disarmed", c.Disarm, false},
		{"next burst", func() { c.Arm(time.Hour) }, true},
	}
	for _, s := range steps {
		s.do()
		if got := c.Armed(); got != s.want {
			t.Fatalf("%s: Armed() = %v, want %v", s.name, got, s.want)
		}
	}
}
