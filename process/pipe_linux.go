package process

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fastPipeSize is the capacity an output pipe is given once its process
// proves to write fast (a read found the pipe full). A larger pipe lets the
// process and the pump each run longer between wakeups. It is not given up
// front: the kernel charges pipe capacity to the user, and past
// pipe-user-pages-soft every new pipe of that user is cut to two pages.
const fastPipeSize = 1 << 20

// growPipe asks for fastPipeSize; a refusal (over pipe-max-size or the
// user's quota) leaves the pipe as it was, which is only slower.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, fastPipeSize)
	})
}

// outputPipe is a pipe for a child's stdout or stderr. Only the read end
// goes on the runtime's poller (the pump reads it without holding a
// thread); the write end is the child's and is closed as soon as the child
// holds its copy. os.Pipe would put both ends on the poller, and the write
// end would cost a registration, a switch back to blocking mode for the
// child and an unregistration: six system calls per process for nothing.
func outputPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("pipe: %w", err)
	}
	// F_SETFL alone (SetNonblock reads the flags first): a new pipe's read
	// end has no other status flag to keep.
	if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		_ = unix.Close(fds[0])
		_ = unix.Close(fds[1])
		return nil, nil, fmt.Errorf("pipe: %w", err)
	}
	// A non-blocking descriptor makes a pollable *os.File; a blocking one
	// stays off the poller.
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
