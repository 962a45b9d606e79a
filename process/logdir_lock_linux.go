package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFileName is the lock file of a log folder as earlier versions of
// the daemon took it: they held this file locked (flock) with their pid
// inside. The daemon now locks the folder itself and creates no file (a
// file creation cost 10 to 110 µs of every start before its first answer,
// the more after heavy file churn on ext4). A folder holding this file may
// still be in use by an earlier version, so LockLogDir also refuses a
// folder whose lock file is held, and an image started by a switch from
// an earlier version adopts the lock file it was handed (AdoptLogDirLock).
// A file system that cannot lock a folder (NFS) is locked by this file
// still (lockByFile).
const LockFileName = "sandbox-api.lock"

// LockLogDir takes the log folder dir for this daemon alone: a second daemon
// on the same folder would read, cap and delete the logs of the first one's
// processes as its own. It fails with ErrLogDirLocked, naming the folder and
// the other daemon's pid when known, if another daemon holds it.
//
// The lock is an flock on the folder itself (on its lock file where the
// file system cannot lock a folder), held for as long as the returned
// descriptor stays open: keep it open until the daemon exits. It
// is close-on-exec, so the processes the daemon starts never hold it (an
// orphan that did would keep the next daemon out). An in-place re-exec of
// the daemon carries this very descriptor over (a new open would conflict
// with our own lock) and takes it back with AdoptLogDirLock.
func LockLogDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open log dir %s to lock it: %w", dir, err)
	}
	if err := lockOrRefuse(f, dir, dir); err != nil {
		_ = f.Close()
		if folderLockUnsupported(err) { // never so for ErrLogDirLocked, which wraps no errno
			return lockByFile(dir)
		}
		return nil, err
	}
	if err := refuseEarlierVersionHolder(dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// folderLockUnsupported says whether an flock on a folder failed because
// its file system cannot lock a folder: NFS emulates flock with a POSIX
// lock, which wants a descriptor open for writing, and a folder opens only
// for reading.
func folderLockUnsupported(err error) bool {
	return errors.Is(err, unix.EBADF) || errors.Is(err, unix.EINVAL) ||
		errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOLCK)
}

// lockByFile takes dir by its lock file (LockFileName), as earlier versions
// did, where the folder itself cannot be locked: a file creation on the
// folder's first start, and a daemon of either way, or of an earlier
// version, refuses the other.
func lockByFile(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock file of log dir %s: %w", dir, err)
	}
	if err := lockOrRefuse(f, dir, path); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// refuseEarlierVersionHolder fails with ErrLogDirLocked when an earlier
// version of the daemon, or a daemon on a file system that cannot lock a
// folder (lockByFile), holds dir's lock file (LockFileName). A folder
// without one, the usual case, costs one failed lookup.
func refuseEarlierVersionHolder(dir string) error {
	path := filepath.Join(dir, LockFileName)
	legacy, err := os.OpenFile(path, os.O_RDWR, 0) // for writing: NFS's flock wants it
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the lock file of an earlier daemon, %s: %w", path, err)
	}
	defer legacy.Close() // a lock taken here goes with it
	return lockOrRefuse(legacy, dir, path)
}

// AdoptLogDirLock takes back, after an in-place re-exec, the lock that
// LockLogDir returned before it: f must be the open folder dir, or the
// lock file of dir that an earlier version of the daemon held, and this
// process must hold its lock (or get it now, if nobody does). It makes f
// close-on-exec again, since the hand-over had to clear that.
func AdoptLogDirLock(dir string, f *os.File) error {
	var held, named unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &held); err != nil {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	path := dir
	if held.Mode&unix.S_IFMT != unix.S_IFDIR {
		path = filepath.Join(dir, LockFileName) // an earlier version's lock
	}
	if err := unix.Stat(path, &named); errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("adopt the lock of log dir %s: %w (there is no %s)", dir, ErrNotLogDirLock, path)
	} else if err != nil {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, err)
	}
	if held.Dev != named.Dev || held.Ino != named.Ino {
		return fmt.Errorf("adopt the lock of log dir %s: %w", dir, ErrNotLogDirLock)
	}
	// flock on the open file description that holds the lock succeeds; on
	// any other it fails while the holder lives.
	if err := lockOrRefuse(f, dir, path); err != nil {
		return err
	}
	unix.CloseOnExec(int(f.Fd()))
	return nil
}

// lockOrRefuse takes the flock on f, the lock of dir at path (dir itself,
// or its lock file). Held by another, it fails with ErrLogDirLocked naming
// the holder and path; any other failure is the flock's, wrapped.
func lockOrRefuse(f *os.File, dir, path string) error {
	err := flockNoWait(f)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return fmt.Errorf("%w: %s (%s holds %s)", ErrLogDirLocked, dir, flockHolder(f), path)
	default:
		return fmt.Errorf("lock log dir %s: %w", dir, err)
	}
}

func flockNoWait(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// flockHolder words who holds the flock on f's file: "sandbox-api pid N",
// from the kernel's list of locks (/proc/locks, pids as this process sees
// them), or "another sandbox-api" when the list does not say.
func flockHolder(f *os.File) string {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "another sandbox-api"
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return "another sandbox-api"
	}
	defer locks.Close()
	pid, ok := findFlockHolder(io.LimitReader(locks, maxLocksListBytes), unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	if !ok {
		return "another sandbox-api"
	}
	return "sandbox-api pid " + strconv.Itoa(pid)
}

// maxLocksListBytes bounds the read of /proc/locks, which lists every lock
// of the host's kernel: an error message does not need more.
const maxLocksListBytes = 4 << 20

// findFlockHolder reads a /proc/locks list for the pid holding an flock on
// the file whose device is major:minor and inode ino. A line reads
// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's has "->"
// after the number.
func findFlockHolder(list io.Reader, major, minor uint32, ino uint64) (int, bool) {
	file := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	sc := bufio.NewScanner(list)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != file {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
			return pid, true
		}
	}
	return 0, false
}
