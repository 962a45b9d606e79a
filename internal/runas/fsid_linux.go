package runas

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Enter gives the calling goroutine the user's file system identity until
// the returned function is called:
//
//	defer user.Enter()()
//
// The goroutine is locked to its OS thread meanwhile, and only that thread
// changes (setgroups, setfsgid, setfsuid: x/sys/unix makes them as plain
// per-thread system calls, unlike the syscall package, which applies
// them to every thread). While the thread is locked, the Go runtime never
// clones it to make a new thread (it asks a clean template thread, see
// runtime.newm), so no other goroutine ever runs with the identity.
//
// Calls nest: inside Enter, a further Enter changes nothing. Keep no wait
// on a client inside (a request body, a slow reader): the thread stays
// held for the whole time.
//
// The daemon checks at start that it can take the identity (Check). If the
// kernel still refuses a change, or the return to the daemon's identity,
// Enter panics with the thread left locked: the operation must not go on
// with a mixed identity, and the thread dies with its goroutine instead of
// serving another one (net/http turns the panic of a handler into a closed
// connection).
func (u *User) Enter() (leave func()) {
	if u == nil {
		return func() {}
	}
	euid, egid := os.Geteuid(), os.Getegid()
	if int(u.UID) == euid && int(u.GID) == egid {
		return func() {} // the daemon's own: nothing to change
	}
	runtime.LockOSThread()
	if uid, gid := fsIDs(); uid != euid || gid != egid {
		// Only Enter changes a thread's identity: an outer Enter holds it.
		return runtime.UnlockOSThread
	}
	own, err := unix.Getgroups()
	if err != nil {
		panic(fmt.Sprintf("runas: groups of the daemon: %v", err))
	}
	if err := u.become(); err != nil {
		panic(fmt.Sprintf("runas: take the identity of %s: %v", u, err))
	}
	return func() {
		if err := restore(euid, egid, own); err != nil {
			panic(fmt.Sprintf("runas: give back the daemon's identity after acting as %s: %v", u, err))
		}
		runtime.UnlockOSThread()
	}
}

// become sets the thread's groups, file system gid and file system uid.
// Leaving uid 0 for files drops the file capabilities (CAP_DAC_OVERRIDE
// and the like) from the thread, so the kernel checks permissions as for
// the user; CAP_SETUID and CAP_SETGID stay, to come back.
func (u *User) become() error {
	groups := make([]int, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = int(g)
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	// setfsuid and setfsgid report no error: read back what was set.
	_ = unix.Setfsgid(int(u.GID))
	_ = unix.Setfsuid(int(u.UID))
	if uid, gid := fsIDs(); uid != int(u.UID) || gid != int(u.GID) {
		return fmt.Errorf("the thread has uid %d, gid %d for files", uid, gid)
	}
	return nil
}

// restore gives the thread the daemon's identity back; returning to uid 0
// gives it its file capabilities back.
func restore(euid, egid int, groups []int) error {
	_ = unix.Setfsuid(euid)
	_ = unix.Setfsgid(egid)
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if uid, gid := fsIDs(); uid != euid || gid != egid {
		return fmt.Errorf("the thread still has uid %d, gid %d for files", uid, gid)
	}
	return nil
}

// fsIDs reads the calling thread's file system uid and gid: given an
// invalid id (-1), setfsuid and setfsgid change nothing and return the
// current one.
func fsIDs() (uid, gid int) {
	uid, _ = unix.SetfsuidRetUid(-1)
	gid, _ = unix.SetfsgidRetGid(-1)
	return uid, gid
}

// Check makes sure the daemon can take the user's identity and give it
// back (it needs root, or CAP_SETUID and CAP_SETGID): Enter relies on it.
func (u *User) Check() (err error) {
	if u == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { // a goroutine of its own: a failed Enter keeps its thread
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v (the daemon must run as root to act as another user)", r)
			}
		}()
		u.Enter()()
	}()
	<-done
	return err
}
