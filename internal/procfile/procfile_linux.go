// Package procfile reads and writes the small files of /proc (a task's
// children, a process's stat, oom_score_adj) in three or four system
// calls. An *os.File would first try the file on the runtime's poller and
// set it back, and os.ReadFile also asks for its size: five or six calls
// more. The daemon writes one on its way to its first answer, and one per
// child on the way to a process's start when it resets the child's OOM
// score; the orphan reaper reads one per thread and one per child at each
// scan, which follows the end of every managed process.
package procfile

import (
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// Write writes value to the file at path, which must exist. Its errors
// are *os.PathError, made without fmt, whose first use costs a start some
// 10 µs (the daemon's write fails wherever it lacks CAP_SYS_RESOURCE).
func Write(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// Read reads the whole file at path into buf, growing it as needed, and
// returns the bytes read. Its errors are *os.PathError.
func Read(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf[:0], &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512) // room to read into
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
