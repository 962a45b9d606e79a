package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/coalesce"
)

// logSink stands between the logger and stderr. Lines are queued in a
// bounded buffer that one goroutine writes out, so a reader of stderr that
// stalls (a blocked log driver, a pipe nobody drains) stalls only that
// goroutine, never a request: written straight to stderr, the 64 KiB pipe
// filled after a few hundred access-log lines and every request then hung
// in its log call. When the buffer is full, lines are dropped and counted,
// and a line saying how many follows once stderr drains again.
//
// A line waits up to logFlushDelay for others to share its write: a busy
// daemon's lines then go out together, one wake of the writer and one
// system call per batch, instead of a wake per request competing with the
// next one for the CPU. A quiet daemon arms no timer; Sync writes at once.
type logSink struct {
	out   io.Writer
	max   int
	delay time.Duration   // logFlushDelay, but in tests
	flush *coalesce.Timer // wakes the writer delay after a first line

	mu      sync.Mutex
	pending []byte
	dropped int  // lines dropped since the last report
	writing bool // the goroutine holds a batch
	wake    chan struct{}
	drained *sync.Cond // signalled when pending is empty and nothing is being written
}

// logSinkSize bounds the queued log: about 4000 access-log lines.
const logSinkSize = 1 << 20

// logFlushDelay is the longest a line waits for company before its write;
// logFlushEarly, the queue that is written without waiting (a burst).
const (
	logFlushDelay = 5 * time.Millisecond
	logFlushEarly = 64 << 10
)

func newLogSink(out io.Writer, max int) *logSink {
	s := &logSink{out: out, max: max, delay: logFlushDelay, wake: make(chan struct{}, 1)}
	s.drained = sync.NewCond(&s.mu)
	s.flush = coalesce.New(s.kick)
	go s.run()
	return s
}

// Write queues one encoded line (zap writes whole lines); it never blocks
// on the output.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	if len(s.pending)+len(p) > s.max {
		s.dropped++
	} else {
		s.pending = append(s.pending, p...)
	}
	now := len(s.pending) >= min(logFlushEarly, s.max) // a burst, or a full queue
	s.mu.Unlock()
	if now {
		s.kick()
	} else {
		s.flush.Arm(s.delay)
	}
	return len(p), nil
}

// kick wakes the writer.
func (s *logSink) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *logSink) run() {
	var spare []byte
	for range s.wake {
		s.mu.Lock()
		batch, dropped := s.pending, s.dropped
		s.pending, s.dropped = spare[:0], 0
		s.flush.Disarm() // the next line arms the timer again
		s.writing = len(batch) > 0 || dropped > 0
		s.mu.Unlock()
		if len(batch) > 0 {
			_, _ = s.out.Write(batch)
		}
		if dropped > 0 {
			_, _ = fmt.Fprintf(s.out, `{"level":"warn","ts":%q,"msg":"log lines dropped: stderr was not being read","dropped":%d}`+"\n",
				time.Now().UTC().Format(time.RFC3339Nano), dropped)
		}
		s.mu.Lock()
		spare = batch
		s.writing = false
		if len(s.pending) > 0 || s.dropped > 0 {
			s.kick() // more came while writing
		} else {
			s.drained.Broadcast()
		}
		s.mu.Unlock()
	}
}

// Sync waits until everything queued is written, for at most timeout: at
// exit the last lines should get out, but a stalled stderr must not keep
// the daemon from exiting.
func (s *logSink) Sync() error { return s.syncWithin(2 * time.Second) }

func (s *logSink) syncWithin(timeout time.Duration) error {
	s.kick() // what waits for the timer goes now
	done := make(chan struct{})
	go func() {
		s.mu.Lock()
		for len(s.pending) > 0 || s.dropped > 0 || s.writing {
			s.drained.Wait()
		}
		s.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("log not flushed within %s: stderr is not being read", timeout)
	}
}
