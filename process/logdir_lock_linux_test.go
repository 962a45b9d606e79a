package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLockLogDirRefusesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := LockLogDir(dir)
	if err != nil {
		t.Fatalf("LockLogDir: %v", err)
	}
	// flock belongs to an open file description: a second open, even in
	// the same process, is a second holder.
	_, err = LockLogDir(dir)
	if !errors.Is(err, ErrLogDirLocked) {
		t.Fatalf("second LockLogDir = %v, want ErrLogDirLocked", err)
	}
	for _, want := range []string{dir, "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not name %q", err, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := LockLogDir(dir)
	if err != nil {
		t.Fatalf("LockLogDir once the holder closed it: %v", err)
	}
	again.Close()
}

func TestLockLogDirIsCloseOnExec(t *testing.T) {
	f, err := LockLogDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Fatal("the lock is inherited by the processes the daemon starts")
	}
}

func TestAdoptLogDirLock(t *testing.T) {
	dir := t.TempDir()
	held, err := LockLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	adoptAcrossExec(t, dir, held)

	// Another open of the same folder does not hold the lock.
	other, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := AdoptLogDirLock(dir, other); !errors.Is(err, ErrLogDirLocked) {
		t.Errorf("adopting a second open of the folder = %v, want ErrLogDirLocked", err)
	}
	// Nor is any other file the lock.
	stranger, err := os.CreateTemp(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if err := AdoptLogDirLock(dir, stranger); !errors.Is(err, ErrNotLogDirLock) {
		t.Errorf("adopting another file = %v, want ErrNotLogDirLock", err)
	}
	if err := AdoptLogDirLock(t.TempDir(), held); !errors.Is(err, ErrNotLogDirLock) {
		t.Errorf("adopting the lock of another folder = %v, want ErrNotLogDirLock", err)
	}
}

// The lock is the folder's own: a first start creates no file in it.
func TestLockLogDirCreatesNoFile(t *testing.T) {
	dir := t.TempDir()
	f, err := LockLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the log folder holds %v after LockLogDir, want nothing", entries)
	}
}

// heldLockFile is dir's lock file as an earlier version of the daemon held
// it: created, flocked, its pid inside; closing it lets go.
func heldLockFile(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, LockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strconv.Itoa(os.Getpid()) + "\n"); err != nil {
		t.Fatal(err)
	}
	return f
}

// A folder an earlier version of the daemon holds, by its lock file, is
// refused; once it let go, the folder is taken and the file left alone.
func TestLockLogDirRefusesAnEarlierVersionHolder(t *testing.T) {
	dir := t.TempDir()
	earlier := heldLockFile(t, dir)
	_, err := LockLogDir(dir)
	if !errors.Is(err, ErrLogDirLocked) {
		earlier.Close()
		t.Fatalf("LockLogDir beside an earlier version's lock = %v, want ErrLogDirLocked", err)
	}
	for _, want := range []string{dir, "pid " + strconv.Itoa(os.Getpid()), LockFileName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not name %q", err, want)
		}
	}
	earlier.Close()
	f, err := LockLogDir(dir)
	if err != nil {
		t.Fatalf("LockLogDir once the earlier version let go: %v", err)
	}
	defer f.Close()
	if _, err := os.Stat(filepath.Join(dir, LockFileName)); err != nil {
		t.Errorf("the earlier version's lock file: %v, want it left in place", err)
	}
	// Taken: a second daemon of this version is refused.
	if again, err := LockLogDir(dir); !errors.Is(err, ErrLogDirLocked) {
		again.Close()
		t.Errorf("a second LockLogDir = %v, want ErrLogDirLocked", err)
	}
}

// An image started by a switch from an earlier version adopts the lock file
// that version handed over.
func TestAdoptLogDirLockOfAnEarlierVersion(t *testing.T) {
	dir := t.TempDir()
	held := heldLockFile(t, dir)
	defer held.Close()
	adoptAcrossExec(t, dir, held)
	// Still held: a fresh daemon is refused.
	if f, err := LockLogDir(dir); !errors.Is(err, ErrLogDirLocked) {
		f.Close()
		t.Errorf("LockLogDir beside an adopted lock file = %v, want ErrLogDirLocked", err)
	}
}

func TestFindFlockHolder(t *testing.T) {
	const list = `1: POSIX  ADVISORY  WRITE 300 08:01:5678 0 EOF
2: FLOCK  ADVISORY  WRITE 400 08:01:1234 0 EOF
3: FLOCK  ADVISORY  WRITE 500 00:2a:5678 0 EOF
3: -> FLOCK  ADVISORY  WRITE 600 00:2a:5678 0 EOF
4: OFDLCK ADVISORY  READ  -1 fd:00:5678 0 EOF
`
	tests := []struct {
		major, minor uint32
		ino          uint64
		pid          int
		found        bool
	}{
		{0x00, 0x2a, 5678, 500, true}, // the holder, not the waiter
		{0x08, 0x01, 1234, 400, true},
		{0x08, 0x01, 5678, 0, false}, // a POSIX lock, not an flock
		{0xfd, 0x00, 5678, 0, false}, // an OFD lock has no pid
		{0x08, 0x02, 1234, 0, false},
	}
	for _, tt := range tests {
		pid, found := findFlockHolder(strings.NewReader(list), tt.major, tt.minor, tt.ino)
		if pid != tt.pid || found != tt.found {
			t.Errorf("findFlockHolder(%x:%x:%d) = %d, %v; want %d, %v", tt.major, tt.minor, tt.ino, pid, found, tt.pid, tt.found)
		}
	}
}

func TestFolderLockUnsupported(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{unix.EBADF, true}, // NFS: flock emulated by a POSIX lock, which wants writing
		{unix.EINVAL, true},
		{unix.EOPNOTSUPP, true},
		{unix.ENOLCK, true},
		{unix.EWOULDBLOCK, false}, // held: refused, never worked around
		{unix.EINTR, false},
		{fmt.Errorf("flock: %w", unix.EBADF), true},
	}
	for _, tt := range tests {
		if got := folderLockUnsupported(tt.err); got != tt.want {
			t.Errorf("folderLockUnsupported(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// Where a folder cannot be locked, its lock file is: a second daemon of
// either way is refused, naming the holder, and a switch adopts the file.
func TestLockFileWhereTheFolderCannotBeLocked(t *testing.T) {
	dir := t.TempDir()
	f, err := lockByFile(dir)
	if err != nil {
		t.Fatalf("lockByFile: %v", err)
	}
	defer f.Close()
	if _, err := os.Stat(filepath.Join(dir, LockFileName)); err != nil {
		t.Fatalf("the lock file: %v", err)
	}
	for name, lock := range map[string]func(string) (*os.File, error){"lockByFile": lockByFile, "LockLogDir": LockLogDir} {
		other, err := lock(dir)
		if !errors.Is(err, ErrLogDirLocked) {
			other.Close()
			t.Fatalf("%s beside a held lock file = %v, want ErrLogDirLocked", name, err)
		}
		if want := "pid " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: the error %q does not name %q", name, err, want)
		}
	}
	adoptAcrossExec(t, dir, f)
}

// adoptAcrossExec does to the held lock f what a switch does (clears its
// close-on-exec to carry it across exec), adopts it as the lock of dir,
// and checks that it is close-on-exec again.
func adoptAcrossExec(t *testing.T, dir string, f *os.File) {
	t.Helper()
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := AdoptLogDirLock(dir, f); err != nil {
		t.Fatalf("adopting the held lock %s: %v", f.Name(), err)
	}
	if flags, _ := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("the adopted lock %s is not close-on-exec again", f.Name())
	}
}
