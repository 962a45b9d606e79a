package process

import (
	"context"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/exitwait"
)

// exitWait is the wait for one attempt's exit (awaitExit), which the
// attempt's output can hurry up (hint): its pipes reaching end of file is
// the sign of an exit a few microseconds before, which the poller reports
// only at its next look; when the pumps are woken first, that look comes
// after they have run, and the end of a short command waited for the
// difference. The zero value is ready.
type exitWait struct {
	mu sync.Mutex
	// h is the pidfd of the wait under way, then, once the wait saw the
	// exit, until close: its close is not on the way to the answer an exec
	// waits for. nil between waits.
	h *exitwait.Handle
}

// close closes the pidfd of the wait, if any.
func (w *exitWait) close() {
	w.mu.Lock()
	h := w.h
	w.h = nil
	w.mu.Unlock()
	if h != nil {
		_ = h.Close()
	}
}

// hint makes a wait under way look at once whether the child exited. It
// may come at any time: between waits it does nothing, as the next wait
// looks first anyway.
func (w *exitWait) hint() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h != nil {
		w.h.Hint()
	}
}

// use makes h the pidfd that hints wake.
func (w *exitWait) use(h *exitwait.Handle) {
	w.mu.Lock()
	w.h = h
	w.mu.Unlock()
}

// awaitExit returns true once the child pid has exited, without reaping it
// and without holding an OS thread meanwhile (exitwait.Handle.Wait), and
// false when halt is done first: the child is then left as it is, running
// or a zombie, for a later wait. w's hints make it look again at once.
// Where pidfds are not available it returns true at once and the caller's
// reap blocks, as exitwait.Await does; a manager there refuses to freeze
// (ErrFreezeUnsupported), so halt never comes. The pidfd that saw the
// exit stays open until w.close.
func awaitExit(halt context.Context, pid int, w *exitWait) bool {
	h, err := exitwait.Open(pid)
	if err != nil {
		return true
	}
	w.use(h)
	// Any other failure of the wait leaves it to the caller's reap.
	if err := h.Wait(halt); err != nil && halt.Err() != nil {
		w.close()
		return false
	}
	return true // h is closed once the end is answered (attempt.release)
}

// pidfdsWork reports whether this kernel gives pidfds (Linux 5.3, and no
// seccomp filter refusing pidfd_open).
func pidfdsWork() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	_ = unix.Close(fd)
	return true
}
