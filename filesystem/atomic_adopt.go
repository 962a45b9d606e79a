package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// adoptAtomic starts an atomic write of dest whose temporary file is f, a
// finished file of the daemon's at path: a second link to it is made
// beside dest under a temporary name, so that Commit lands it like any
// other write (mode, fsync, rename) with no byte copied, and Abort drops
// that link while path stays. ok is false when no such link can be made
// (path on another file system than dest, or on one without hard links,
// or gone): the caller then writes a copy, which fails, if it must, with
// its own words. f is the AtomicFile's from then on when
// ok, the caller's still otherwise.
//
// Only for a daemon acting as itself (see actsAsDaemon): the link is made
// with the daemon's rights, which a user's write must not borrow.
func adoptAtomic(writes *inflightWrites, user *runas.User, f *os.File, path, dest string) (a *AtomicFile, ok bool, err error) {
	if !actsAsDaemon(user) {
		return nil, false, nil
	}
	if isDir(dest) {
		return nil, false, fmt.Errorf("write %s: %w", dest, ErrIsDirectory)
	}
	if err := refuseSpecial(dest); err != nil {
		return nil, false, err
	}
	dir, err := existingAncestor(filepath.Dir(dest))
	if err != nil {
		return nil, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("write %s: %w", dest, err)
	}
	for range maxTempAttempts {
		w := writes.begin(dir, dest)
		err := os.Link(path, w.path)
		if err == nil {
			return &AtomicFile{dest: dest, tmp: f, tmpPath: w.path, size: fi.Size(), writes: writes, write: w, user: user}, true, nil
		}
		writes.end(w)
		switch {
		case errors.Is(err, fs.ErrExist):
			continue
		case errors.Is(err, syscall.EXDEV), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EOPNOTSUPP),
			errors.Is(err, syscall.EMLINK), errors.Is(err, fs.ErrNotExist):
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("write %s: link a temporary file in %s: %w", dest, dir, diskError(err))
		}
	}
	return nil, false, fmt.Errorf("write %s: link a temporary file in %s: every name tried exists", dest, dir)
}

// actsAsDaemon tells whether writes as user are the daemon's own: no
// --user, or one with the daemon's identity (runas.User.Enter changes
// nothing then).
func actsAsDaemon(user *runas.User) bool {
	return user == nil || int(user.UID) == os.Geteuid() && int(user.GID) == os.Getegid()
}
