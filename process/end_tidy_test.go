package process

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// tidyRecorder notes the order tidying ran in.
type tidyRecorder struct {
	mu  sync.Mutex
	ran []int
}

func (r *tidyRecorder) step(i int) func() {
	return func() {
		r.mu.Lock()
		r.ran = append(r.ran, i)
		r.mu.Unlock()
	}
}

func (r *tidyRecorder) got() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

func TestEndTidyWaitsForItsDelay(t *testing.T) {
	tidy := newEndTidy()
	tidy.delay = time.Hour // nothing runs unless the test says so
	rec := &tidyRecorder{}
	for i := range 3 {
		tidy.later(rec.step(i))
	}
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("tidying ran before its delay: %v", got)
	}
	tidy.runQueued() // the delay is over
	if got, want := rec.got(), []int{0, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v (oldest first, each once)", got, want)
	}
	tidy.runQueued() // a late timer of the same burst runs nothing again
	if got := rec.got(); len(got) != 3 {
		t.Fatalf("ran %v after a second run, want each once", got)
	}
}

func TestEndTidyRunsAfterTheDelay(t *testing.T) {
	tidy := newEndTidy()
	tidy.delay = time.Millisecond
	done := make(chan struct{})
	tidy.later(func() { close(done) })
	testsupport.Receive(t, done, "the queued tidying to run")
	tidy.wait() // returns: everything queued has run
}

func TestEndTidyBacklogRunsAtOnce(t *testing.T) {
	tidy := newEndTidy()
	tidy.delay = time.Hour
	rec := &tidyRecorder{}
	for i := range endTidyBacklog {
		tidy.later(rec.step(i))
	}
	if got := rec.got(); len(got) != endTidyBacklog {
		t.Fatalf("%d of a full backlog of %d ran at once", len(got), endTidyBacklog)
	}
	tidy.wait()
	tidy.later(rec.step(endTidyBacklog)) // the next burst waits again
	if got := rec.got(); len(got) != endTidyBacklog {
		t.Fatalf("a tidying after the backlog ran at once: %v", got[endTidyBacklog:])
	}
}

func TestEndTidyWaitCoversQueued(t *testing.T) {
	tidy := newEndTidy()
	tidy.delay = time.Hour
	rec := &tidyRecorder{}
	tidy.later(rec.step(0))
	waited := make(chan struct{})
	go func() {
		tidy.wait()
		close(waited)
	}()
	select {
	case <-waited:
		t.Fatal("wait returned with tidying still queued")
	default:
	}
	tidy.runQueued()
	testsupport.Receive(t, waited, "wait to return once the queue ran")
}

// On one processor, as the daemon runs while it serves one request, the
// goroutine an end woke (the handler that answers) runs before the end's
// tidying arms its timer, whose arming can wake the runtime's poller. The
// scheduler takes a yielded goroutine back first on one pick in 61, so the
// test asks for most of several tries; without the yield none would pass.
func TestEndTidyLetsTheWokenRunBeforeArming(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const tries = 10
	first := 0
	for range tries {
		tidy := newEndTidy()
		tidy.delay = time.Hour // nothing runs unless the test says so
		end := make(chan struct{})
		armedWhenWoken := make(chan bool, 1)
		go func() {
			<-end
			armedWhenWoken <- tidy.timer.Armed()
		}()
		close(end)            // the end wakes its waiter,
		tidy.later(func() {}) // then queues its tidying
		if armed := testsupport.Receive(t, armedWhenWoken, "the woken goroutine to run"); !armed {
			first++
		}
		tidy.timer.Stop() // its hour never comes
		tidy.runQueued()
		tidy.wait()
	}
	if first <= tries/2 {
		t.Fatalf("the woken goroutine ran before the timer was armed in %d of %d tries, want most", first, tries)
	}
}
