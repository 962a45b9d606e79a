// Package procs sets how many processors (GOMAXPROCS) the daemon's Go code
// runs on: one while it serves a single request at a time, the runtime's
// default as soon as two requests, or one that moves bulk data, run.
//
// Why: on the 2-core VM an exec-and-wait answered 12–17 µs sooner on one
// processor than on two, and 34 µs sooner once an end's tidying waited
// for the processor to be free (process/end_tidy.go; docs/measured.md).
// With two, each goroutine an exec readies or starts (the supervisor, the
// waiting handler, net/http's background read, the pipes made ahead) can
// wake a second thread on the other core, and a halted core takes some
// 40 µs to wake. With one, those goroutines follow each other on one
// thread; a goroutine blocked in a system call still gets a thread of its
// own (the runtime hands the processor on), and a child process runs on
// any core. But concurrent
// requests want both cores, and so does bulk work even alone: the SDK's
// parallel multipart upload ran 37–39% slower on one processor, the
// streamed exec and the log stream up to 23% slower, and a content search
// spreads over GOMAXPROCS workers. So the count is raised while two
// requests run or bulk work does (Governor.BulkStarted), and lowered again a
// moment (DefaultLinger) after the last of them ends.
//
// A change of GOMAXPROCS stops the world for some 25 µs; the linger keeps
// a burst of requests (an upload's parts) from paying it each time. The
// count is lowered as the program initialises, by package atinit (which
// says why so early), and ForRuntime governs it from there: lowered a
// moment after the start instead, once goroutines had allocated on the
// second processor too, the idle daemon kept 0.3–0.5 MB more resident.
// Setting GOMAXPROCS in the daemon's environment turns this off: the
// runtime keeps what it was told.
package procs

import (
	"sync"
	"time"
)

// DefaultLinger is how long the count stays raised after the work that
// raised it ended.
const DefaultLinger = 250 * time.Millisecond

// Governor raises the processor count while two requests or bulk work
// run. A nil Governor changes nothing.
type Governor struct {
	raise  func() // the runtime's default count
	lower  func() // one processor
	linger time.Duration
	after  func(time.Duration, func()) (stop func() bool)

	mu       sync.Mutex
	requests int         // requests being served
	bulk     int         // bulk work running
	raised   bool        // the count is the runtime's default
	turn     uint64      // which scheduled lowering may still lower
	pending  func() bool // stops the scheduled lowering, if any
}

// New returns a Governor that calls raise when the count must go up and
// lower linger after it may go down; after schedules the lowering
// (time.AfterFunc's shape). It calls lower once now: the daemon starts on
// one processor.
func New(raise, lower func(), linger time.Duration, after func(time.Duration, func()) (stop func() bool)) *Governor {
	g := &Governor{raise: raise, lower: lower, linger: linger, after: after}
	lower()
	return g
}

// RequestStarted counts a request being served until RequestEnded.
func (g *Governor) RequestStarted() {
	if g != nil {
		g.count(&g.requests, 1)
	}
}

// RequestEnded is the end of a request RequestStarted counted.
func (g *Governor) RequestEnded() {
	if g != nil {
		g.count(&g.requests, -1)
	}
}

// BulkStarted marks bulk work as running until BulkEnded: it wants every
// core even alone.
func (g *Governor) BulkStarted() {
	if g != nil {
		g.count(&g.bulk, 1)
	}
}

// BulkEnded is the end of bulk work BulkStarted marked.
func (g *Governor) BulkEnded() {
	if g != nil {
		g.count(&g.bulk, -1)
	}
}

// count adds delta to one of the counts, then raises or schedules the
// lowering as what runs now wants.
func (g *Governor) count(n *int, delta int) {
	g.mu.Lock()
	*n += delta
	g.settleLocked()
	g.mu.Unlock()
}

// wantsRaised is whether what runs now wants every core.
func (g *Governor) wantsRaised() bool { return g.requests >= 2 || g.bulk > 0 }

// settleLocked raises the count at once when what runs wants it, and
// schedules its lowering once nothing does.
func (g *Governor) settleLocked() {
	switch {
	case g.wantsRaised():
		if g.pending != nil {
			g.pending()
			g.pending = nil
		}
		if !g.raised {
			g.raised = true
			g.raise()
		}
	case g.raised && g.pending == nil:
		g.turn++
		turn := g.turn
		g.pending = g.after(g.linger, func() { g.lowerAfterLinger(turn) })
	}
}

// lowerAfterLinger lowers the count unless work that wants it raised came
// since the lowering of turn was scheduled (a stop too late for its timer).
func (g *Governor) lowerAfterLinger(turn uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if turn != g.turn || g.wantsRaised() || !g.raised {
		return
	}
	g.raised, g.pending = false, nil
	g.lower()
}
