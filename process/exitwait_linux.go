package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns once the child pid has exited (it is then a zombie that
// cmd.Wait reaps at once), without holding an OS thread meanwhile: a pidfd
// becomes readable when its process exits, and the runtime's poller watches
// it like a socket. A blocking wait would pin one thread per running process,
// and the runtime stops the daemon at 10000 threads. Where pidfds are not
// available (Linux before 5.3, or a seccomp filter refusing them) it
// returns at once and cmd.Wait blocks as before.
//
// The pid cannot be reused before the call: only cmd.Wait reaps a managed
// child (the reaper leaves managed pids alone), and it runs after this.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, 0) // PIDFD_NONBLOCK would need Linux 5.10
	if err != nil {
		return
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd") // non-blocking: on the poller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(ready, 0)
		return err != nil || n > 0 // true: done (exited, or give up and block)
	})
}
