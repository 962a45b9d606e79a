package handover

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// NewMemFile returns an anonymous memory file holding data, its offset at
// the start, close-on-exec until KeepAcrossExec: what goes to the next
// image without ever touching a disk or a command line (the token, the
// state).
func NewMemFile(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write the memory file %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("rewind the memory file %s: %w", name, err)
	}
	return f, nil
}

// ReadFD reads descriptor fd from its start (a pipe from where it is), at
// most limit bytes, and closes it. More than limit bytes is an error.
func ReadFD(fd int, limit int64) ([]byte, error) {
	f := os.NewFile(uintptr(fd), "inherited")
	if f == nil {
		return nil, fmt.Errorf("descriptor %d is not valid", fd)
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil && !errors.Is(err, syscall.ESPIPE) {
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read descriptor %d: %w", fd, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("descriptor %d holds more than %d bytes", fd, limit)
	}
	return data, nil
}

// KeepAcrossExec clears FD_CLOEXEC on f's descriptor, so that the next
// image inherits it under the same number, which it returns. It does not
// change the descriptor's blocking mode (File.Fd would). Call it just
// before the exec, with no child being started meanwhile
// (syscall.ForkLock held): a child would inherit the descriptor too.
func KeepAcrossExec(f syscall.Conn) (int, error) {
	return setCloseOnExec(f, false)
}

// CloseOnExec sets FD_CLOEXEC on f's descriptor again: after an exec that
// failed, or on a descriptor inherited from an earlier image, which the
// daemon's children must not inherit.
func CloseOnExec(f syscall.Conn) error {
	_, err := setCloseOnExec(f, true)
	return err
}

func setCloseOnExec(f syscall.Conn, on bool) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	number, ferr := -1, error(nil)
	err = rc.Control(func(fd uintptr) {
		number = int(fd)
		flag := 0
		if on {
			flag = unix.FD_CLOEXEC
		}
		_, ferr = unix.FcntlInt(fd, unix.F_SETFD, flag)
	})
	if err = errors.Join(err, ferr); err != nil {
		return -1, fmt.Errorf("descriptor %d close-on-exec %v: %w", number, on, err)
	}
	return number, nil
}
