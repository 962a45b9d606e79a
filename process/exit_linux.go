package process

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// exitWait is the wait for one attempt's exit (awaitExit), which the
// attempt's output can hurry up (hint): its pipes reaching end of file is
// the sign of an exit a few microseconds before, which the poller reports
// only at its next look; when the pumps are woken first, that look comes
// after they have run, and the end of a short command waited for the
// difference. The zero value is ready.
type exitWait struct {
	mu sync.Mutex
	f  *os.File // the pidfd of the wait under way; nil between waits
}

// hint makes a wait under way look at once whether the child exited. It
// may come at any time: between waits it does nothing, as the next wait
// looks first anyway.
func (w *exitWait) hint() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		_ = w.f.SetReadDeadline(time.Unix(1, 0)) // in the past: wakes the wait now
	}
}

// use makes f the pidfd that hints wake (nil: none).
func (w *exitWait) use(f *os.File) {
	w.mu.Lock()
	w.f = f
	w.mu.Unlock()
}

// awaitExit returns true once the child pid has exited, without reaping it
// and without holding an OS thread meanwhile (a pidfd becomes readable when
// its process exits, and the runtime's poller watches it like a socket),
// and false when halt is done first: the child is then left as it is,
// running or a zombie, for a later wait. w's hints make it look again at
// once. Where pidfds are not available it returns true at once and the
// caller's reap blocks, as exitwait.Await does; a manager there refuses to
// freeze (ErrFreezeUnsupported), so halt never comes.
func awaitExit(halt context.Context, pid int, w *exitWait) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return true
	}
	f := os.NewFile(uintptr(fd), "pidfd") // non-blocking: on the poller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	w.use(f)
	defer w.use(nil)
	// halt moves the read deadline to the past, which wakes the parked
	// wait with os.ErrDeadlineExceeded; so does a hint.
	stop := context.AfterFunc(halt, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		err = rc.Read(func(fd uintptr) bool {
			ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(ready, 0)
			if errors.Is(err, unix.EINTR) {
				return false // the poller says when to look again
			}
			return err != nil || n > 0
		})
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return true
		}
		if halt.Err() != nil {
			return false
		}
		// A hint, and the child still runs: back to the poller. halt is
		// looked at again after the deadline is cleared, as it may have
		// set it just before.
		_ = f.SetReadDeadline(time.Time{})
		if halt.Err() != nil {
			return false
		}
	}
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
