package process

import (
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
