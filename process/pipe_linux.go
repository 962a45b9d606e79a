package process

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fastPipeSize is the capacity an output pipe is given once its process
// proves to write fast (a read found the pipe full). A larger pipe lets the
// process and the pump each run longer between wakeups. It is not given up
// front: the kernel charges pipe capacity to the user, and past
// pipe-user-pages-soft every new pipe of that user is cut to two pages.
const fastPipeSize = 1 << 20

// growPipe asks for fastPipeSize for the pipe fd; a refusal (over
// pipe-max-size or the user's quota) leaves the pipe as it was, which is
// only slower.
func growPipe(fd int) {
	if fd >= 0 {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, fastPipeSize)
	}
}

// rawFD is f's descriptor (-1 and false for none), without the side effect
// of f.Fd, which makes a pollable file blocking. The caller keeps f open
// while it uses the number: an output's pipe is closed only by reachedEOF
// and closeSpent, never while its reader still reads it, and replaced by
// pollablePipe only before a pump starts.
func rawFD(f *os.File) (int, bool) {
	if f == nil {
		return -1, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	_ = rc.Control(func(d uintptr) { fd = int(d) })
	return fd, fd >= 0
}

// outputPipe is a pipe for a child's stdout or stderr. Both ends are
// blocking and off the runtime's poller: the supervisor's quick watch
// polls the read end itself (quickwatch_linux.go), and a command that ends
// within it never costs a poller registration, nor wakes the poller's
// thread when it exits. A pump that takes the read end over makes it
// pollable first (pollablePipe). os.Pipe would put both ends on the
// poller, and the write end would cost a registration, a switch back to
// blocking mode for the child and an unregistration.
//
// The write end stays a bare descriptor: only the child's stdio and the
// quick watch's copy use it. As *os.Files, closing both at the child's
// exit took 4.5-6.4 µs of the answer's way, timed in place, and 2.2-2.3
// as bare descriptors (docs/measured.md).
func outputPipe() (r *os.File, w pipeWriteEnd, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, pipeWriteEnd{}, fmt.Errorf("pipe: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), pipeWriteEnd{fd: fds[1], held: true}, nil
}

// pipeWriteEnd is a pipe's write end held by the daemon as a bare
// descriptor; the zero value holds none.
type pipeWriteEnd struct {
	fd   int
	held bool
}

// close closes the end if it is held, once.
func (e *pipeWriteEnd) close() {
	if e.held {
		_ = unix.Close(e.fd)
		*e = pipeWriteEnd{}
	}
}

// pollablePipe returns f made readable by a pump on the runtime's poller:
// f itself when it is already (a pipe a pump read before, or one handed
// over by an earlier image), else a non-blocking duplicate of it, f being
// closed. An *os.File cannot leave blocking mode in place: its kind is
// fixed when it is made. On failure (no descriptor left) f is returned as
// it is: a pump then reads it holding a thread, and a freeze cannot stop
// that pump until the pipe's end.
func pollablePipe(f *os.File) *os.File {
	if f.SetReadDeadline(time.Time{}) == nil {
		return f // on the poller already (and any freeze's deadline cleared)
	}
	fd, ok := rawFD(f)
	if !ok {
		return f
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return f
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		_ = unix.Close(dup)
		return f
	}
	_ = f.Close()
	return os.NewFile(uintptr(dup), f.Name())
}
