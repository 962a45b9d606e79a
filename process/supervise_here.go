package process

import (
	"context"
	"time"
)

// superviseHere is the start of a just-started process's supervision, run
// on the goroutine of an exec that waits for its end (Execute) instead of
// a supervisor's own: the first attempt's quick watch, and, when the
// process exited within it with its output all in and no restart follows,
// the end recorded from its status (peekExit). Whatever else follows goes
// on in a goroutine of its own (superviseAfter), from where this stopped:
// the wait for a process still running, for output an orphan still holds,
// a restart, and, after an end, the reap of the zombie and the tidying,
// once the answer is on its way.
//
// Why: on the daemon's one processor (internal/procs), a supervisor's
// goroutine that ended the record woke the waiting handler and then
// yielded the processor to it (endTidy.later): a hand-over between
// goroutines, with caches cold from the child's run, on the answer's way.
// An exec-and-wait of `true` answered some 4 µs sooner supervised here
// (12 runs, docs/measured.md). The caller is held no longer than the quick
// watch's limit (defaultQuickWatchLimit) before its own wait, which sees
// its context and timeout as before (a client that leaves meanwhile is
// seen once the watch ends), and the watch is no longer than bound, the
// exec's bound on its wait (0: none).
//
// start counted this supervision (supervisors) as it would a goroutine's.
func (p *Process) superviseHere(halt context.Context, bound time.Duration) {
	p.mu.Lock()
	att := p.att
	p.mu.Unlock()
	limit := p.m.quickLimit
	if bound > 0 {
		limit = min(limit, bound)
	}
	exited := p.quickWatch(att, limit)
	switch {
	case !exited:
		go p.superviseAfter(halt, watchedRunning)
		return
	case !att.out.drainedNow():
		// Output still to come (an orphan holds a pipe): the usual waits
		// go on.
		go p.superviseAfter(halt, watchedExited)
		return
	}
	// The status without the reap (peekExit): the zombie is reaped below,
	// once the answer is on its way. (A reap here does not wait: the watch
	// saw the exit.)
	if !p.peekExit(att) {
		p.reap(halt, att, true)
	}
	if p.attemptOver(att) {
		p.reap(halt, att, true) // reaped before the restart, as supervise has it
		go p.superviseAfter(halt, watchedExited)
		return
	}
	leftover := p.finish(att.code)
	go func() {
		defer p.m.supervisors.Done()
		p.reap(halt, att, true) // the zombie peeked at, if it was
		p.queueEndTidy(att, leftover)
	}()
}
