package terminal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// startOnPTY starts cmd as the leader of a new session whose controlling
// terminal is a new PTY of the given size, and returns the PTY's master.
//
// The master is read and written through the Go runtime's poller, so an
// idle session parks a goroutine instead of blocking an OS thread in read(2).
// creack/pty opens the PTY but reaches its descriptor through File.Fd (in
// its ioctls), which puts an os.File in blocking mode for good; so the
// master is re-wrapped in a non-blocking descriptor of its own, and later
// ioctls go through SyscallConn, never Fd.
func startOnPTY(cmd *exec.Cmd, cols, rows uint16) (*os.File, error) {
	opened, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open a pty: %w", err)
	}
	defer tty.Close() // the shell holds its own copies once started
	master, err := onPoller(opened)
	if err != nil {
		return nil, err
	}
	if err := setSize(master, cols, rows); err != nil {
		_ = master.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// Setctty makes the child's fd 0 (Ctty) its controlling terminal. What
	// the caller set (credentials, say) is kept.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	if err := cmd.Start(); err != nil {
		_ = master.Close()
		return nil, err
	}
	return master, nil
}

// onPoller returns a non-blocking copy of f's descriptor that the runtime
// poller watches, and closes f.
func onPoller(f *os.File) (*os.File, error) {
	defer f.Close()
	return pollerCopy(f)
}

// pollerCopy returns a non-blocking, close-on-exec copy of f's descriptor
// that the runtime poller watches; f is left open.
func pollerCopy(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("pty master: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(old uintptr) { fd, derr = unix.FcntlInt(old, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || derr != nil {
		return nil, fmt.Errorf("duplicate the pty master: %w", errors.Join(err, derr))
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("pty master non-blocking: %w", err)
	}
	// NewFile sees O_NONBLOCK and registers the descriptor with the poller.
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// setSize sets the PTY's window size; the foreground process group gets
// SIGWINCH.
func setSize(master *os.File, cols, rows uint16) error {
	rc, err := master.SyscallConn()
	if err != nil {
		return fmt.Errorf("set the pty size: %w", err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows})
	}); err != nil || ierr != nil {
		return fmt.Errorf("set the pty size to %dx%d: %w", cols, rows, errors.Join(err, ierr))
	}
	return nil
}

// getSize reads the PTY's window size.
func getSize(master *os.File) (cols, rows uint16, err error) {
	rc, err := master.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("read the pty size: %w", err)
	}
	var ws *unix.Winsize
	var ierr error
	if err := rc.Control(func(fd uintptr) { ws, ierr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); err != nil || ierr != nil {
		return 0, 0, fmt.Errorf("read the pty size: %w", errors.Join(err, ierr))
	}
	return ws.Col, ws.Row, nil
}
