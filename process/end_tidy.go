package process

import (
	"runtime"
	"sync"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/coalesce"
)

// endTidyDelay is how long the tidying an end leaves waits: for the
// burst of ends it shares a goroutine with, and for the answer and the
// next request of the client that waited for the end.
//
// Why: an end's tidying (the spent pipes and pidfd closed, the journal
// lines and files of the records it pruned, the orphan scan's timer) is
// some 15 µs of the processor that no answer waits for. Done right after
// the answer, on the daemon's one processor (internal/procs), it held up
// the next request of a client sending execs one after another, or the
// command that client ran meanwhile: an exec answered 24–33 µs later on
// the 2-core VM (docs/measured.md). Waiting a moment puts it where the
// daemon waits anyway, for the next command's end or the next request.
const endTidyDelay = 2 * time.Millisecond

// endTidyBacklog is the tidying that runs at once rather than wait: a
// burst of ends does not pile up descriptors for the delay.
const endTidyBacklog = 64

// endTidy holds the tidying of recent ends until endTidyDelay after the
// first of them.
type endTidy struct {
	delay time.Duration // endTidyDelay, but in tests
	timer *coalesce.Timer
	// pending counts the tidying queued and not yet done, which a freeze
	// waits for (the journal handed on says what was pruned).
	pending sync.WaitGroup

	mu    sync.Mutex
	queue []func()
}

func newEndTidy() *endTidy {
	t := &endTidy{delay: endTidyDelay}
	t.timer = coalesce.New(t.runQueued)
	return t
}

// later queues f, which runs endTidyDelay after the first of a burst, or
// now when endTidyBacklog are queued already.
//
// An end calls it right after waking whoever waits for that end. The first
// of a burst yields before it arms the timer, so that on the daemon's one
// processor (internal/procs) a handler woken by the end sends its answer
// first: a timer due before the runtime's poller next wakes breaks the
// poller's sleep (a write to its eventfd, and its thread woken on another
// vCPU), which read 5–10 µs on the answer's way (docs/measured.md).
func (t *endTidy) later(f func()) {
	t.pending.Add(1)
	t.mu.Lock()
	t.queue = append(t.queue, f)
	full := len(t.queue) >= endTidyBacklog
	t.mu.Unlock()
	if full {
		t.runQueued()
		return
	}
	if !t.timer.Armed() {
		runtime.Gosched()
	}
	t.timer.Arm(t.delay)
}

// runQueued runs what is queued, oldest first.
func (t *endTidy) runQueued() {
	t.timer.Disarm() // ends from here on start the next burst
	t.mu.Lock()
	queue := t.queue
	t.queue = nil
	t.mu.Unlock()
	for _, f := range queue {
		f()
		t.pending.Done()
	}
}

// wait returns once everything queued so far has run.
func (t *endTidy) wait() { t.pending.Wait() }
