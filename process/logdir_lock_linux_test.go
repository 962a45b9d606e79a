package process

import (
	"errors"
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
	// What a hand-over does to carry it across exec.
	if _, err := unix.FcntlInt(held.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := AdoptLogDirLock(dir, held); err != nil {
		t.Fatalf("adopting the held lock: %v", err)
	}
	if flags, _ := unix.FcntlInt(held.Fd(), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Error("an adopted lock is not close-on-exec again")
	}

	// Another open of the same file does not hold the lock.
	other, err := os.Open(filepath.Join(dir, LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := AdoptLogDirLock(dir, other); !errors.Is(err, ErrLogDirLocked) {
		t.Errorf("adopting a second open of the lock file = %v, want ErrLogDirLocked", err)
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

// LockLogDirNoting says whether the lock file is new: only the folder's
// first lock creates it.
func TestLockLogDirNotesTheCreation(t *testing.T) {
	dir := t.TempDir()
	first, created, err := LockLogDirNoting(dir)
	if err != nil || !created {
		t.Fatalf("first lock: created %v, %v; want a new lock file", created, err)
	}
	first.Close()
	again, created, err := LockLogDirNoting(dir)
	if err != nil || created {
		t.Fatalf("second lock: created %v, %v; want the existing lock file", created, err)
	}
	again.Close()
}
