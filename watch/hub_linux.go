package watch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
)

// All the watches of a Service share one inotify instance. The kernel allows
// few instances per user (fs.inotify.max_user_instances, 128 by default, and
// containers without a user namespace all count as the host's root), so an
// instance per watch would cap the concurrent watches of every container on
// a host together. The instance is opened by the first watch and closed with
// the last one.
//
// Sharing has one cost the design takes care of: the kernel keeps a single
// watch descriptor per inode and instance. Two watches of the same folder
// share it, so a descriptor is removed only when its last subscriber lets
// go, its mask is the union of theirs (IN_MASK_ADD), and each subscriber
// gets only the events its own mask asked for.

// inotifyHub hands out the Service's shared instance.
type inotifyHub struct {
	mu  sync.Mutex // guards cur and everything in every sharedInotify
	cur *sharedInotify
}

// sharedInotify is one instance and who listens to it. Its reader goroutine
// only hands events over to the subscribers' queues, so no watch (one that
// scans a large new tree, say) delays another.
type sharedInotify struct {
	hub    *inotifyHub
	in     *inotify
	subs   map[int][]subscription // watch descriptor → subscribers
	queues map[*rawQueue]struct{} // the watches using the instance
	closed bool
}

type subscription struct {
	q    *rawQueue
	mask uint32
}

// acquire returns the shared instance, opening it if needed, with q
// registered as one of its users.
func (h *inotifyHub) acquire(q *rawQueue) (*sharedInotify, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		in, err := newInotify()
		if err != nil {
			return nil, err
		}
		h.cur = &sharedInotify{hub: h, in: in, subs: map[int][]subscription{}, queues: map[*rawQueue]struct{}{}}
		go h.cur.read()
	}
	h.cur.queues[q] = struct{}{}
	return h.cur, nil
}

// add watches path for q with mask and returns the descriptor.
func (s *sharedInotify) add(q *rawQueue, path string, mask uint32) (int, error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.closed {
		return -1, errors.New("the inotify instance failed")
	}
	wd, err := s.in.add(path, mask|syscall.IN_MASK_ADD)
	if err != nil {
		return -1, err
	}
	subs := s.subs[wd]
	for i := range subs {
		if subs[i].q == q { // the same inode again, under another path
			subs[i].mask |= mask
			return wd, nil
		}
	}
	s.subs[wd] = append(subs, subscription{q: q, mask: mask})
	return wd, nil
}

// remove stops q's interest in wd; the kernel's watch goes with the last
// subscriber.
func (s *sharedInotify) remove(q *rawQueue, wd int) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.removeLocked(q, wd)
}

func (s *sharedInotify) removeLocked(q *rawQueue, wd int) {
	subs := s.subs[wd]
	kept := subs[:0]
	for _, sub := range subs {
		if sub.q != q {
			kept = append(kept, sub)
		}
	}
	if len(kept) > 0 {
		s.subs[wd] = kept
		return
	}
	delete(s.subs, wd)
	if !s.closed && len(subs) > 0 {
		s.in.remove(wd)
	}
}

// releaseBatch is how many descriptors release removes per hold of the lock.
const releaseBatch = 256

// release drops q's descriptors and q itself; the last user closes the
// instance. When it returns, the kernel's watches q alone held are gone.
func (s *sharedInotify) release(q *rawQueue, wds []int) {
	// A recursive watch of a large tree holds many descriptors: they go in
	// batches, so the reader can hand out other watches' events in between
	// (events for q meanwhile only fill its queue, which nobody reads).
	for len(wds) > releaseBatch {
		s.hub.mu.Lock()
		for _, wd := range wds[:releaseBatch] {
			s.removeLocked(q, wd)
		}
		s.hub.mu.Unlock()
		wds = wds[releaseBatch:]
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	for _, wd := range wds {
		s.removeLocked(q, wd)
	}
	delete(s.queues, q)
	if len(s.queues) == 0 {
		s.closeLocked()
	}
}

func (s *sharedInotify) closeLocked() {
	if s.hub.cur == s {
		s.hub.cur = nil
	}
	if !s.closed {
		s.closed = true
		s.in.close()
	}
}

// read hands the instance's events to their subscribers until it is closed.
func (s *sharedInotify) read() {
	buf := make([]byte, 64<<10) // room for many events, and one at NAME_MAX
	for {
		n, err := s.in.file.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			// Every watch learns of it and ends; the next one opens a new
			// instance.
			s.hub.mu.Lock()
			for q := range s.queues {
				q.push(rawEvent{err: fmt.Sprintf("reading inotify events: %v; the watch ends", err)})
			}
			s.closeLocked()
			s.hub.mu.Unlock()
			return
		}
		s.hub.mu.Lock()
		if !s.closed {
			s.dispatchLocked(buf[:n])
		}
		s.hub.mu.Unlock()
	}
}

// dispatchLocked queues each event for the subscribers that asked for it.
func (s *sharedInotify) dispatchLocked(buf []byte) {
	for off := 0; off+inotifyHeader <= len(buf); {
		ev := rawEvent{
			wd:     int(int32(binary.NativeEndian.Uint32(buf[off:]))),
			mask:   binary.NativeEndian.Uint32(buf[off+4:]),
			cookie: binary.NativeEndian.Uint32(buf[off+8:]),
		}
		nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
		end := min(off+inotifyHeader+nameLen, len(buf))
		ev.name = strings.TrimRight(string(buf[off+inotifyHeader:end]), "\x00")
		off = end
		switch {
		case ev.mask&syscall.IN_Q_OVERFLOW != 0:
			for q := range s.queues {
				q.push(ev)
			}
		case ev.mask&syscall.IN_IGNORED != 0: // the kernel dropped the watch
			for _, sub := range s.subs[ev.wd] {
				sub.q.push(ev)
			}
			delete(s.subs, ev.wd)
		default:
			for _, sub := range s.subs[ev.wd] {
				if ev.mask&sub.mask&syscall.IN_ALL_EVENTS != 0 {
					sub.q.push(ev)
				}
			}
		}
	}
}

// rawEvent is one inotify event, or (err set) the end of the instance.
type rawEvent struct {
	wd     int
	mask   uint32
	cookie uint32 // pairs the two halves of a rename
	name   string
	err    string
}

// rawQueueLimit matches the kernel's default max_queued_events: a watch
// busy with a large new tree may fall this far behind before it loses
// events, which it then learns as an overflow, in their place.
const rawQueueLimit = 16384

// rawQueue holds one watch's events between the shared reader, which must
// never wait, and the watch's own goroutine.
type rawQueue = dropQueue[rawEvent]

func newRawQueue(limit int) *rawQueue {
	return newDropQueue(limit, func(int) rawEvent { return rawEvent{wd: -1, mask: syscall.IN_Q_OVERFLOW} })
}
