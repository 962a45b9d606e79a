package filesystem

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// mayWrite tells whether the calling thread's identity (a user's, see
// Config.User) may write the existing file path, as open(2) would decide:
// mode bits, ACLs, read-only flags. faccessat2 with AT_EACCESS checks with
// the thread's file system identity (plain access(2) would check as root).
// Only a refusal counts: anything else (a busy executable, a read-only
// file system) is left to the write itself.
func mayWrite(path string) bool {
	err := unix.Faccessat2(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
	if errors.Is(err, unix.ENOSYS) {
		// Linux before 5.8: opening it for writing, without truncating,
		// is the same check.
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0); err == nil {
			_ = f.Close()
		}
	}
	return !errors.Is(err, fs.ErrPermission)
}
