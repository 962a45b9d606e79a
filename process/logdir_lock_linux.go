package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFileName is the file of a log folder that the daemon using the folder
// holds locked (flock) for as long as it runs. It holds that daemon's pid,
// for the error a second daemon gives. It is never removed: removing it
// would let two daemons lock two different files of the same name.
const LockFileName = "sandbox-api.lock"

// LockLogDir takes the log folder dir for this daemon alone: a second daemon
// on the same folder would read, cap and delete the logs of the first one's
// processes as its own. It fails with ErrLogDirLocked, naming the folder and
// the other daemon's pid when known, if another daemon holds it.
//
// The lock lasts as long as the returned file stays open: keep it open until
// the daemon exits. The file is close-on-exec, so the processes the daemon
// starts never hold it (an orphan that did would keep the next daemon out).
// An in-place re-exec of the daemon carries this very descriptor over (a new
// open of the file would conflict with our own lock) and takes it back with
// AdoptLogDirLock.
func LockLogDir(dir string) (*os.File, error) {
	f, _, err := LockLogDirNoting(dir)
	return f, err
}

// LockLogDirNoting is LockLogDir that also says whether it created the lock
// file, as a folder's first daemon does: the creation proves that the folder
// takes new files, which spares the caller a probe file of its own (a file
// creation costs a few hundred microseconds on some disks).
func LockLogDirNoting(dir string) (f *os.File, created bool, err error) {
	path := filepath.Join(dir, LockFileName)
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	created = err == nil
	if errors.Is(err, os.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR, 0o600)
	}
	if err != nil {
		return nil, false, fmt.Errorf("open the lock of log dir %s: %w", dir, err)
	}
	if err := flockNoWait(f); err != nil {
		holder := lockHolder(f)
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, fmt.Errorf("%w: %s (%s holds %s)", ErrLogDirLocked, dir, holder, path)
		}
		return nil, false, fmt.Errorf("lock log dir %s: %w", dir, err)
	}
	if err := writeLockHolder(f, created); err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("lock log dir %s: %w", dir, err)
	}
	return f, created, nil
}

// AdoptLogDirLock takes back, after an in-place re-exec, the lock that
// LockLogDir returned before it: f must be the open lock file of dir, and
// this process must hold its lock (or get it now, if nobody does). It makes
// f close-on-exec again, since the hand-over had to clear that.
func AdoptLogDirLock(dir string, f *os.File) error {
	path := filepath.Join(dir, LockFileName)
	var held, named unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &held); err != nil {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	if err := unix.Stat(path, &named); errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("adopt the lock of log dir %s: %w (it has none)", dir, ErrNotLogDirLock)
	} else if err != nil {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	if held.Dev != named.Dev || held.Ino != named.Ino {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, ErrNotLogDirLock)
	}
	// flock on the open file description that holds the lock succeeds; on
	// any other it fails while the holder lives.
	if err := flockNoWait(f); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s (%s holds %s)", ErrLogDirLocked, dir, lockHolder(f), path)
		}
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	unix.CloseOnExec(int(f.Fd()))
	if err := writeLockHolder(f, false); err != nil {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	return nil
}

func flockNoWait(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// writeLockHolder puts this daemon's pid in the lock file.
func writeLockHolder(f *os.File, created bool) error {
	if !created { // a file just created is empty; a truncation costs ext4 some 10 µs
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("write the lock file: %w", err)
		}
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	return nil
}

// lockHolder words who holds the lock, from the pid the holder wrote: "pid
// N", or "another sandbox-api" when the file says nothing usable (the
// holder has not written it yet).
func lockHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return "another sandbox-api"
	}
	return "sandbox-api pid " + strconv.Itoa(pid)
}
