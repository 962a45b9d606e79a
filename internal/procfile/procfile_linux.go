// Package procfile writes the small control files of /proc
// (oom_score_adj) in three system calls. An *os.File would first try the
// file on the runtime's poller and set it back, five calls more: the
// daemon writes one on its way to its first answer, and one per child on
// the way to a process's start when it resets the child's OOM score.
package procfile

import (
	"os"

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
