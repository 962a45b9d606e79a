package procs

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeTimers holds the lowerings a Governor scheduled, for a test to fire.
type fakeTimers struct {
	funcs   []func()
	stopped []bool
}

func (f *fakeTimers) after(_ time.Duration, fn func()) func() bool {
	i := len(f.funcs)
	f.funcs = append(f.funcs, fn)
	f.stopped = append(f.stopped, false)
	return func() bool {
		was := !f.stopped[i]
		f.stopped[i] = true
		return was
	}
}

// fireLast runs the newest scheduled lowering, stopped or not: a stop that
// comes too late for its timer must still not lower.
func (f *fakeTimers) fireLast() {
	if len(f.funcs) > 0 {
		f.funcs[len(f.funcs)-1]()
	}
}

// fireAll runs every scheduled lowering, oldest first.
func (f *fakeTimers) fireAll() {
	for _, fn := range f.funcs {
		fn()
	}
}

func TestGovernorSteps(t *testing.T) {
	// Steps: r = a request starts, e = a request ends, b = bulk work
	// starts, d = bulk work ends, f = the newest lowering fires, F = every
	// lowering fires, in order. The log is R for a raise, L for a
	// lowering; New lowers first.
	tests := []struct {
		name, steps, want string
	}{
		{"starts lowered", "", "L"},
		{"one request at a time stays lowered", "rerefF", "L"},
		{"two requests raise", "rr", "LR"},
		{"two requests raise once", "rrrr", "LR"},
		{"no lowering before the linger", "rree", "LR"},
		{"lowered a linger after the second ends", "rreef", "LRL"},
		{"one request left lets it lower", "rref", "LRL"},
		{"a second request within the linger keeps it raised", "rreerrf", "LR"},
		{"bulk work alone raises", "bdf", "LRL"},
		{"bulk work within a request raises", "rbde", "LR"},
		{"a request alone after bulk work lets it lower", "brdf", "LRL"},
		{"bulk work beside a request keeps it raised", "brf", "LR"},
		{"a stale lowering cannot lower", "rreerreeF", "LRL"},
		{"a late timer of an earlier turn", "rreerrF", "LR"},
		{"raised again after a lowering", "rreefrreef", "LRLRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			timers := &fakeTimers{}
			g := New(func() { log.WriteString("R") }, func() { log.WriteString("L") }, time.Second, timers.after)
			for _, s := range tt.steps {
				switch s {
				case 'r':
					g.RequestStarted()
				case 'e':
					g.RequestEnded()
				case 'b':
					g.BulkStarted()
				case 'd':
					g.BulkEnded()
				case 'f':
					timers.fireLast()
				case 'F':
					timers.fireAll()
				}
			}
			if got := log.String(); got != tt.want {
				t.Errorf("steps %q: calls %q, want %q", tt.steps, got, tt.want)
			}
		})
	}
}

func TestNilGovernorDoesNothing(t *testing.T) {
	var g *Governor
	g.RequestStarted() // none of these may panic
	g.BulkStarted()
	g.BulkEnded()
	g.RequestEnded()
}

func TestForRuntimeGovernsNothingUnlessLowered(t *testing.T) {
	if g := ForRuntime(false, time.Second); g != nil {
		t.Fatal("a governor of a count initialisation did not lower")
	}
}

func TestForRuntimeGovernsTheRuntime(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	runtime.SetDefaultGOMAXPROCS()
	full := runtime.GOMAXPROCS(0)
	if full <= 1 {
		t.Fatalf("a default of %d processor: this test needs two cores", full)
	}
	runtime.GOMAXPROCS(1) // as package atinit leaves it
	g := ForRuntime(true, time.Hour)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d once governed, want 1", got)
	}
	lingerEnds := func() { // without waiting an hour
		g.mu.Lock()
		turn := g.turn
		g.mu.Unlock()
		g.lowerAfterLinger(turn)
	}
	g.RequestStarted()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d with one request, want 1", got)
	}
	g.RequestStarted()
	if got := runtime.GOMAXPROCS(0); got != full {
		t.Fatalf("GOMAXPROCS %d with two requests, want the default %d", got, full)
	}
	g.RequestEnded()
	g.RequestEnded()
	lingerEnds()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS %d after the linger, want 1", got)
	}
}
