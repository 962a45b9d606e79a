package filesystem

import (
	"errors"
	"os"
	"syscall"
)

// lockJournal takes the journal's lock without waiting; false means another
// process holds it. The kernel drops the lock when the file is closed or the
// process dies, which is what tells a live daemon's journal from a gone one.
func lockJournal(f *os.File) (bool, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var lockErr error
	if err := raw.Control(func(fd uintptr) {
		lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return false, err
	}
	if errors.Is(lockErr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return lockErr == nil, lockErr
}
