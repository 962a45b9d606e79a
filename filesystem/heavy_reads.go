package filesystem

import (
	"context"
	"fmt"
)

// DefaultMaxHeavyReads bounds the heavy reads served at once
// (Config.MaxHeavyReads): trees, folder listings, fuzzy and content
// searches, and reads of files whose size is unknown. Each builds its whole
// answer in memory before sending it (a tree of 100,000 entries costs about
// 120 MB until it is written), so without a bound a client asking for many
// at once grows the daemon without end. Past the bound they wait their
// turn: reads are CPU-bound, so more at once would not end sooner.
const DefaultMaxHeavyReads = 4

// heavyReads is the queue of heavy reads: a semaphore whose waiters give
// up when their context ends.
type heavyReads struct{ slots chan struct{} }

func newHeavyReads(n int) *heavyReads {
	if n <= 0 {
		n = DefaultMaxHeavyReads
	}
	return &heavyReads{slots: make(chan struct{}, n)}
}

// WaitHeavyRead waits for a slot among the Config.MaxHeavyReads heavy reads
// and returns the function that gives it back (call it once). Hold the slot
// until the answer is written and dropped: that is when its memory can go.
// It fails only when ctx ends first.
func (f *FS) WaitHeavyRead(ctx context.Context) (release func(), err error) {
	select {
	case f.heavy.slots <- struct{}{}:
		return func() { <-f.heavy.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a turn among %d heavy reads: %w", cap(f.heavy.slots), ctx.Err())
	}
}
