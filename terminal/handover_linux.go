package terminal

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// closeOnExec sets f's close-on-exec flag again, after a switch that
// cleared it for the exec was abandoned.
func closeOnExec(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("close-on-exec %s: %w", f.Name(), err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { _, ferr = unix.FcntlInt(fd, unix.F_SETFD, unix.FD_CLOEXEC) }); err != nil || ferr != nil {
		return fmt.Errorf("close-on-exec %s: %w", f.Name(), errors.Join(err, ferr))
	}
	return nil
}

// isMaster tells a PTY master (which has a terminal number) from any other
// descriptor a mangled state may point at.
func isMaster(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { _, ierr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN) }); err != nil {
		return false
	}
	return ierr == nil
}
