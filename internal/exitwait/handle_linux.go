package exitwait

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Handle is a child's pidfd, held for as long as the child may be waited
// for rather than opened for one wait, for what Await cannot do: a wait
// that stops without reaping anything (a daemon handing its children to
// its next image stops waiting, and that image waits again), and a
// reference to the child that crosses an exec. A pidfd names its process
// for good: a child that exits and is reaped by someone else (the daemon's
// reaper of orphans) meanwhile leaves a pidfd that reads as exited, never
// one of another process that got the same pid.
type Handle struct {
	pid int
	f   *os.File // non-blocking, on the runtime's poller
}

// Open returns a handle of the child pid, which the caller has not reaped
// yet (so the pid is still the child's). It fails where pidfds are not
// available (Linux before 5.3, or a seccomp filter refusing them): the
// caller then waits with Await.
func Open(pid int) (*Handle, error) {
	f, err := open(pid)
	if err != nil {
		return nil, err
	}
	return &Handle{pid: pid, f: f}, nil
}

// Adopt makes a handle of f, a pidfd of the child pid inherited from an
// earlier image of the daemon across an exec. The handle holds its own
// close-on-exec copy of the descriptor (the inherited one is not
// close-on-exec, and the daemon's later children must not inherit it); f is
// left open, for the caller to close once it has adopted everything it
// resumes (or to carry on, should resuming fail).
func Adopt(pid int, f *os.File) (*Handle, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("adopt the pidfd of %d: %w", pid, err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(old uintptr) {
		// Signal 0 checks that the descriptor is a pidfd (ESRCH: of a
		// child that has exited), not something a mangled state points at.
		if derr = unix.PidfdSendSignal(int(old), 0, nil, 0); derr == nil || errors.Is(derr, unix.ESRCH) {
			fd, derr = unix.FcntlInt(old, unix.F_DUPFD_CLOEXEC, 0)
		}
	}); err != nil || derr != nil {
		return nil, fmt.Errorf("adopt the pidfd of %d: %w", pid, errors.Join(err, derr))
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("pidfd of %d non-blocking: %w", pid, err)
	}
	return &Handle{pid: pid, f: os.NewFile(uintptr(fd), "pidfd")}, nil
}

// PID is the child's pid.
func (h *Handle) PID() int { return h.pid }

// File is the pidfd, for an exec to carry to the next image (which
// adopts it). It stays the handle's: the caller must not close it.
func (h *Handle) File() *os.File { return h.f }

// Wait returns nil once the child has exited, or ctx's error if ctx ends
// first, without holding an OS thread meanwhile. It reaps nothing, so it
// may be called again, by this image or the next; one Wait at a time.
// Hint makes it look again at once.
func (h *Handle) Wait(ctx context.Context) error {
	rc, err := h.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("wait for %d: %w", h.pid, err)
	}
	// ctx ending moves the read deadline to the past, which wakes the
	// parked wait (so does Hint); it is reset once that has happened, for
	// the next Wait.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		_ = h.f.SetReadDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-woken
		}
		_ = h.f.SetReadDeadline(time.Time{})
	}()
	for {
		var pollErr error
		err = rc.Read(func(fd uintptr) bool {
			ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(ready, 0)
			if errors.Is(err, unix.EINTR) {
				return false // the poller says when to look again
			}
			pollErr = err
			return err != nil || n > 0
		})
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			if err = errors.Join(err, pollErr); err != nil {
				return fmt.Errorf("wait for %d: %w", h.pid, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A hint, and the child still runs: back to the poller. ctx is
		// looked at again once the deadline is cleared, as it may have
		// set it just before.
		_ = h.f.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Hint makes a Wait under way look at once whether the child exited (its
// caller saw a sign of the exit, such as the child's pipes reaching end of
// file, before the poller's next look). Between waits it only makes the
// next Wait look once more.
func (h *Handle) Hint() {
	_ = h.f.SetReadDeadline(time.Unix(1, 0)) // in the past: wakes the wait now
}

// Reap takes the exit status of the child, for a child that no exec.Cmd
// waits for (one inherited from an earlier image: it is still the daemon's
// child, a zombie until reaped). It blocks until the child has exited, so
// it comes after Wait. A child someone else reaped already is fine.
func (h *Handle) Reap() {
	rc, err := h.f.SyscallConn()
	if err != nil {
		return
	}
	var werr error
	_ = rc.Control(func(fd uintptr) {
		var info unix.Siginfo
		for {
			if werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED, nil); !errors.Is(werr, unix.EINTR) {
				return
			}
		}
	})
	if errors.Is(werr, unix.EINVAL) {
		// P_PIDFD needs Linux 5.4, pidfds 5.3. The child has exited (Wait
		// said so): a zombie keeps its pid, unless another reaper took it,
		// and WNOHANG then takes nothing from a newer child of that pid
		// that is still running.
		var ws unix.WaitStatus
		_, _ = unix.Wait4(h.pid, &ws, unix.WNOHANG, nil)
	}
}

// Close releases the pidfd.
func (h *Handle) Close() error { return h.f.Close() }
