package watch

import (
	"context"
	"fmt"
	"sync"
)

// dropQueue sits between a producer that must never wait (the inotify
// reader, which also adds the watches of new folders) and one consumer. It
// holds at most limit items: past that, items are counted and dropped, and
// one notice, made by notice(count), takes their place, in order. A slow
// consumer thus costs bounded memory and learns that it missed something.
type dropQueue[T any] struct {
	limit  int
	notice func(dropped int) T
	ready  chan struct{} // signalled (capacity 1) after each push and on close

	mu      sync.Mutex
	items   []queued[T]
	waiting int // items in the queue, notices aside
	dropped int // items dropped since the last notice was queued
	closed  bool
}

type queued[T any] struct {
	v      T
	notice bool
}

func newDropQueue[T any](limit int, notice func(dropped int) T) *dropQueue[T] {
	return &dropQueue[T]{limit: limit, notice: notice, ready: make(chan struct{}, 1)}
}

// eventQueue holds one watch's events for the reader of Events.
type eventQueue = dropQueue[Event]

func newEventQueue(root string, limit int) *eventQueue {
	return newDropQueue(limit, func(n int) Event {
		return Event{
			Op:   OpError,
			Path: root,
			Err:  fmt.Sprintf("%d events were dropped: the client read too slowly (at most %d events wait)", n, limit),
		}
	})
}

// push queues v, or drops it when limit items wait already. It never
// blocks. A notice for earlier drops goes first and is not counted: each is
// followed by an item, so the queue never holds more than 2×limit entries.
func (q *dropQueue[T]) push(v T) {
	q.mu.Lock()
	switch {
	case q.closed:
	case q.waiting < q.limit:
		if q.dropped > 0 {
			q.items = append(q.items, queued[T]{v: q.notice(q.dropped), notice: true})
			q.dropped = 0
		}
		q.items = append(q.items, queued[T]{v: v})
		q.waiting++
	default:
		q.dropped++
	}
	q.mu.Unlock()
	q.signal()
}

// close ends the queue: what is queued is still delivered, then pop
// reports the end.
func (q *dropQueue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *dropQueue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take moves up to len(into) items into into, in order, without waiting,
// and says how many. open is false once the queue is closed and nothing is
// left in it: nothing more will come. A take that fills into may leave
// items behind, and the signal of ready is spent: take again before
// waiting.
func (q *dropQueue[T]) take(into []T) (n int, open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for n < len(into) && len(q.items) > 0 {
		it := q.items[0]
		q.items[0] = queued[T]{}
		q.items = q.items[1:]
		if !it.notice {
			q.waiting--
		}
		into[n] = it.v
		n++
	}
	// Drops while the queue was full, and nothing pushed since to carry
	// their notice: it comes now.
	if n < len(into) && len(q.items) == 0 && q.dropped > 0 {
		into[n] = q.notice(q.dropped)
		q.dropped = 0
		n++
	}
	return n, !q.closed || len(q.items) > 0 || q.dropped > 0
}

// pop waits for the next item; ok is false once the queue is closed and
// empty, or ctx is done.
func (q *dropQueue[T]) pop(ctx context.Context) (v T, ok bool) {
	var one [1]T
	for {
		n, open := q.take(one[:])
		switch {
		case n == 1:
			return one[0], true
		case !open:
			return v, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return v, false
		}
	}
}
