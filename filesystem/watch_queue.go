package filesystem

import (
	"context"
	"fmt"
	"sync"
)

// eventQueue sits between the inotify reader, which must never wait for a
// client (it also adds the watches of new folders), and the reader of
// Events. It holds at most limit events: past that, events are counted and
// dropped, and one OpError event takes their place, in order, saying how
// many were lost. A slow client thus costs bounded memory and learns that it
// missed something.
type eventQueue struct {
	root  string // the path named by drop notices
	limit int
	ready chan struct{} // signalled (capacity 1) after each push and on close

	mu      sync.Mutex
	items   []queued
	waiting int // events in items, notices aside
	dropped int // events dropped since the last notice was queued
	closed  bool
}

type queued struct {
	WatchEvent
	notice bool
}

func newEventQueue(root string, limit int) *eventQueue {
	return &eventQueue{root: root, limit: limit, ready: make(chan struct{}, 1)}
}

func (q *eventQueue) dropNotice(n int) WatchEvent {
	return WatchEvent{
		Op:   OpError,
		Path: q.root,
		Err:  fmt.Sprintf("%d events were dropped: the client read too slowly (at most %d events wait)", n, q.limit),
	}
}

// push queues ev, or drops it when limit events wait already. It never
// blocks. A notice for earlier drops goes first and is not counted: each is
// followed by an event, so the queue never holds more than 2×limit entries.
func (q *eventQueue) push(ev WatchEvent) {
	q.mu.Lock()
	switch {
	case q.closed:
	case q.waiting < q.limit:
		if q.dropped > 0 {
			q.items = append(q.items, queued{WatchEvent: q.dropNotice(q.dropped), notice: true})
			q.dropped = 0
		}
		q.items = append(q.items, queued{WatchEvent: ev})
		q.waiting++
	default:
		q.dropped++
	}
	q.mu.Unlock()
	q.signal()
}

// close ends the queue: what is queued is still delivered, then pop
// reports the end.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next event; ok is false once the queue is closed and
// empty, or ctx is done.
func (q *eventQueue) pop(ctx context.Context) (ev WatchEvent, ok bool) {
	for {
		q.mu.Lock()
		switch {
		case len(q.items) > 0:
			it := q.items[0]
			q.items[0] = queued{}
			q.items = q.items[1:]
			if !it.notice {
				q.waiting--
			}
			q.mu.Unlock()
			return it.WatchEvent, true
		case q.dropped > 0:
			ev = q.dropNotice(q.dropped)
			q.dropped = 0
			q.mu.Unlock()
			return ev, true
		case q.closed:
			q.mu.Unlock()
			return WatchEvent{}, false
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return WatchEvent{}, false
		}
	}
}
