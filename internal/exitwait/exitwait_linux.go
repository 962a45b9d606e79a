// Package exitwait waits for a child process to exit without holding an OS
// thread meanwhile. Both managed processes and terminal shells wait this
// way: a blocking wait4 pins one thread per running child, so a daemon with
// many children runs into a container's pids limit (threads count) or the
// Go runtime's limit of 10,000 threads, and dies.
//
// Await opens a pidfd for one wait; a Handle (handle_linux.go) keeps one
// for the child's life, for waits that stop without reaping and a child
// handed to the next image of the daemon across an exec.
package exitwait

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Await returns once the child pid has exited (it is then a zombie that
// cmd.Wait reaps at once), without holding an OS thread meanwhile: a pidfd
// becomes readable when its process exits, and the runtime's poller watches
// it like a socket. Where pidfds are not available (Linux before 5.3, or a
// seccomp filter refusing them) it returns at once and the caller's
// cmd.Wait blocks as before.
//
// The caller must not have reaped pid yet (it calls cmd.Wait after Await),
// so the pid cannot have been reused when the pidfd is opened.
func Await(pid int) {
	f, err := open(pid)
	if err != nil {
		return
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(ready, 0)
		if errors.Is(err, unix.EINTR) {
			// A signal to this thread is no answer: the poller says when
			// to look again (as Handle.Wait does). Giving up here would
			// block a thread for as long as the child runs.
			return false
		}
		return err != nil || n > 0 // true: done (exited, or give up and block)
	})
}

// open returns a non-blocking pidfd of pid, registered with the poller.
// PIDFD_NONBLOCK (Linux 5.10) spares the two fcntl calls that make it
// non-blocking on an exec's way to its answer; older kernels refuse the
// flag and get them.
func open(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.PidfdOpen(pid, 0)
		if err == nil {
			if err = unix.SetNonblock(fd, true); err != nil {
				_ = unix.Close(fd)
				return nil, fmt.Errorf("pidfd of %d non-blocking: %w", pid, err)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return os.NewFile(uintptr(fd), "pidfd"), nil // non-blocking: on the poller
}
