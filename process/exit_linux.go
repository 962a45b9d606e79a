package process

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// awaitExit returns true once the child pid has exited, without reaping it
// and without holding an OS thread meanwhile (a pidfd becomes readable when
// its process exits, and the runtime's poller watches it like a socket),
// and false when halt is done first: the child is then left as it is,
// running or a zombie, for a later wait. Where pidfds are not available it
// returns true at once and the caller's reap blocks, as exitwait.Await
// does; a manager there refuses to freeze (ErrFreezeUnsupported), so halt
// never comes.
func awaitExit(halt context.Context, pid int) bool {
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
	// halt moves the read deadline to the past, which wakes the parked
	// wait with os.ErrDeadlineExceeded.
	stop := context.AfterFunc(halt, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	err = rc.Read(func(fd uintptr) bool {
		ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(ready, 0)
		if errors.Is(err, unix.EINTR) {
			return false // the poller says when to look again
		}
		return err != nil || n > 0
	})
	return !errors.Is(err, os.ErrDeadlineExceeded)
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
