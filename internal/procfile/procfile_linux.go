// Package procfile writes the small control files of /proc
// (oom_score_adj) in three system calls. An *os.File would first try the
// file on the runtime's poller and set it back, five calls more: the
// daemon writes one on its way to its first answer, and one per child on
// the way to a process's start when it resets the child's OOM score.
package procfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Write writes value to the file at path, which must exist.
func Write(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
