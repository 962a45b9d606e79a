package runas

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// needRoot skips tests that change identities unless they run as root (CI
// and the development machine do).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func lookupNobody(t *testing.T) *User {
	t.Helper()
	nobody(t)
	u, err := Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sharedDir is a folder anyone may write, holding a file only root may read.
func sharedDir(t *testing.T) (dir, secret string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // no umask
		t.Fatal(err)
	}
	// t.TempDir and its parent are private to root.
	for d := filepath.Dir(dir); d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret = filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("root only"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

func ownerOf(t *testing.T, path string) (uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

func TestEnterActsAsTheUser(t *testing.T) {
	needRoot(t)
	u := lookupNobody(t)
	if err := u.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	dir, secret := sharedDir(t)
	made := filepath.Join(dir, "made")

	leave := u.Enter()
	werr := os.WriteFile(made, []byte("x"), 0o644)
	_, rerr := os.ReadFile(secret)
	oerr := os.WriteFile(secret, []byte("overwritten"), 0o600)
	leave()

	if werr != nil {
		t.Fatalf("write as nobody in a folder anyone may write: %v", werr)
	}
	if uid, gid := ownerOf(t, made); uid != u.UID || gid != u.GID {
		t.Errorf("file written as nobody belongs to %d:%d, want %d:%d", uid, gid, u.UID, u.GID)
	}
	if !errors.Is(rerr, fs.ErrPermission) {
		t.Errorf("reading a root-only file as nobody: %v, want permission denied", rerr)
	}
	if !errors.Is(oerr, fs.ErrPermission) {
		t.Errorf("writing a root-only file as nobody: %v, want permission denied", oerr)
	}
	// Back to root: the same thread reads it again.
	if data, err := os.ReadFile(secret); err != nil || string(data) != "root only" {
		t.Errorf("after leaving, as root: %q, %v", data, err)
	}
}

func TestEnterNests(t *testing.T) {
	needRoot(t)
	u := lookupNobody(t)
	dir, secret := sharedDir(t)

	outer := u.Enter()
	inner := u.Enter()
	inner()
	// Still nobody after the inner call returned.
	err := os.WriteFile(filepath.Join(dir, "after-inner"), nil, 0o644)
	_, rerr := os.ReadFile(secret)
	outer()
	if err != nil {
		t.Fatal(err)
	}
	if uid, _ := ownerOf(t, filepath.Join(dir, "after-inner")); uid != u.UID {
		t.Errorf("after a nested Enter returned, files belong to %d, want %d", uid, u.UID)
	}
	if !errors.Is(rerr, fs.ErrPermission) {
		t.Errorf("after a nested Enter returned, reading root's file: %v, want permission denied", rerr)
	}
}

// TestEnterIsPerThread runs operations as the user and as root at once:
// each must get its own identity, whatever the others do.
func TestEnterIsPerThread(t *testing.T) {
	needRoot(t)
	u := lookupNobody(t)
	dir, secret := sharedDir(t)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		asUser := w%2 == 0
		wg.Go(func() {
			for i := range rounds {
				name := filepath.Join(dir, fmt.Sprintf("w%d-%d", w, i))
				leave := func() {}
				if asUser {
					leave = u.Enter()
				}
				werr := os.WriteFile(name, nil, 0o644)
				_, rerr := os.ReadFile(secret)
				runtime.Gosched() // let the others run between the calls
				leave()
				if werr != nil {
					errs <- werr
					continue
				}
				fi, err := os.Lstat(name)
				if err != nil {
					errs <- err
					continue
				}
				uid := fi.Sys().(*syscall.Stat_t).Uid
				switch {
				case asUser && (uid != u.UID || !errors.Is(rerr, fs.ErrPermission)):
					errs <- fmt.Errorf("as nobody: file of uid %d, read of root's file: %v", uid, rerr)
				case !asUser && (uid != 0 || rerr != nil):
					errs <- fmt.Errorf("as root: file of uid %d, read of root's file: %v", uid, rerr)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNewThreadsKeepTheDaemonIdentity starts goroutines that each need an
// OS thread of their own while the starting goroutine acts as the user: if
// the runtime made those threads by cloning the current one, they would
// inherit its identity.
func TestNewThreadsKeepTheDaemonIdentity(t *testing.T) {
	needRoot(t)
	u := lookupNobody(t)
	const threads = 16
	release := make(chan struct{})
	seen := make(chan [2]int, threads)
	var wg sync.WaitGroup

	leave := u.Enter()
	for range threads {
		wg.Go(func() {
			runtime.LockOSThread() // each holds a thread: the runtime must add some
			defer runtime.UnlockOSThread()
			uid, gid := fsIDs()
			seen <- [2]int{uid, gid}
			<-release
		})
	}
	ids := make([][2]int, 0, threads)
	for range threads {
		ids = append(ids, <-seen)
	}
	mine0, mine1 := fsIDs()
	leave()
	close(release)
	wg.Wait()

	if mine0 != int(u.UID) || mine1 != int(u.GID) {
		t.Fatalf("the entered thread has %d:%d, want %d:%d", mine0, mine1, u.UID, u.GID)
	}
	for _, id := range ids {
		if id[0] != os.Geteuid() || id[1] != os.Getegid() {
			t.Errorf("a thread started meanwhile has the identity %d:%d for files, want the daemon's", id[0], id[1])
		}
	}
}

func TestNilAndOwnUserChangeNothing(t *testing.T) {
	var none *User
	none.Enter()()
	if err := none.Check(); err != nil {
		t.Fatal(err)
	}
	self := &User{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	self.Enter()()
	if uid, gid := fsIDs(); uid != os.Geteuid() || gid != os.Getegid() {
		t.Errorf("after Enter of the daemon's own user: %d:%d", uid, gid)
	}
}
