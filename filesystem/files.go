package filesystem

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Errors of files and folders; test them with errors.Is. A missing path is
// fs.ErrNotExist.
var (
	ErrIsDirectory  = errors.New("is a folder")
	ErrNotDirectory = errors.New("not a folder")
	ErrNotRegular   = errors.New("not a regular file")
	ErrNotEmpty     = errors.New("folder is not empty")
	ErrTooLarge     = errors.New("too large")
	ErrInvalidPath  = errors.New("invalid path")
)

// Directory is a folder with its files and subfolders. In a listing the
// subfolders carry only their path and name; in a tree they are filled in.
type Directory struct {
	Path           string
	Name           string
	Files          []FileInfo
	Subdirectories []Directory
}

// notFound turns "a parent is a file" (ENOTDIR) into fs.ErrNotExist: for
// a reader, /etc/passwd/x simply does not exist.
func notFound(err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// Stat describes p.
func (f *FS) Stat(p string) (FileInfo, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(p)
	lst, err := os.Lstat(abs)
	if err != nil {
		return FileInfo{}, notFound(asStatError(err))
	}
	return newIDNames().describe(abs, lst), nil
}

// asStatError names the failed call "stat", as the existing daemon's
// messages do ("stat /x: no such file or directory"), which clients
// show and match on. Lstat is what runs, so that a dangling link is
// still described; for a missing path the two say the same.
func asStatError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "lstat" {
		return &fs.PathError{Op: "stat", Path: pe.Path, Err: pe.Err}
	}
	return err
}

// OpenFile opens the regular file p for reading. Folders answer
// ErrIsDirectory; devices, FIFOs and sockets ErrNotRegular, since reading
// them could last forever.
func (f *FS) OpenFile(p string) (*os.File, FileInfo, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(p)
	file, err := openNoBlock(abs)
	if err != nil {
		// A socket cannot be opened at all (ENXIO): it is no file to read
		// either, not a failure of the daemon.
		if fi, serr := os.Stat(abs); serr == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil, FileInfo{}, fmt.Errorf("%s: %w (%s): %w", abs, ErrNotRegular, nodeKind(fi.Mode()), err)
		}
		return nil, FileInfo{}, notFound(err)
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, FileInfo{}, fmt.Errorf("stat %s: %w", abs, err)
	}
	switch {
	case fi.IsDir():
		file.Close()
		return nil, FileInfo{}, fmt.Errorf("%s: %w", abs, ErrIsDirectory)
	case !fi.Mode().IsRegular():
		file.Close()
		return nil, FileInfo{}, fmt.Errorf("%s: %w (%s)", abs, ErrNotRegular, fi.Mode().Type())
	}
	return file, newIDNames().describe(abs, fi), nil
}

// List describes the folder p: its files and subfolders, by name. Entries
// that vanish while it reads are left out.
func (f *FS) List(p string) (Directory, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(p)
	return listDir(abs, newIDNames())
}

func listDir(abs string, names *idNames) (Directory, error) {
	entries, err := os.ReadDir(abs)
	if err != nil {
		if fi, serr := os.Stat(abs); serr == nil && !fi.IsDir() {
			return Directory{}, fmt.Errorf("%s: %w", abs, ErrNotDirectory)
		}
		return Directory{}, notFound(err)
	}
	d := Directory{Path: abs, Name: filepath.Base(abs), Files: []FileInfo{}, Subdirectories: []Directory{}}
	for _, e := range entries {
		if isDaemonTemp(e.Name()) {
			continue // a write of the daemon in progress
		}
		lst, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		info := names.describe(filepath.Join(abs, e.Name()), lst)
		if info.IsDir {
			d.Subdirectories = append(d.Subdirectories, Directory{Path: info.Path, Name: info.Name})
		} else {
			d.Files = append(d.Files, info)
		}
	}
	return d, nil
}

// WriteFile streams r into the file p, atomically (see AtomicFile), and
// returns the absolute path written. A nil mode keeps the mode of the file
// it replaces.
func (f *FS) WriteFile(p string, r io.Reader, mode *fs.FileMode) (string, error) {
	abs := f.Resolve(p)
	a, err := f.CreateAtomic(abs)
	if err != nil {
		return abs, err
	}
	defer a.Abort()
	if _, err := a.ReadFrom(r); err != nil {
		return abs, err
	}
	return abs, a.Commit(mode)
}

// Mkdir creates the folder p and its parents. An existing folder is fine;
// its mode is set when mode is given. The mode is applied exactly (no
// umask); parents get 0755 less the umask.
func (f *FS) Mkdir(p string, mode *fs.FileMode) (string, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(p)
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return abs, fmt.Errorf("create folder %s: a file exists there: %w", abs, ErrNotDirectory)
	}
	if err := mkdirAll(abs); err != nil {
		return abs, fmt.Errorf("create folder %s: %w", abs, mkdirError(err))
	}
	if mode != nil {
		if err := os.Chmod(abs, *mode); err != nil {
			return abs, fmt.Errorf("chmod %s: %w", abs, err)
		}
	}
	return abs, nil
}

// Remove deletes the file or folder p (a symbolic link itself, never its
// target) and returns its absolute path and whether it was a folder. A
// folder with entries needs recursive. "/" is never removed.
func (f *FS) Remove(p string, recursive bool) (abs string, wasDir bool, err error) {
	defer f.cfg.User.Enter()()
	abs = f.Resolve(p)
	if abs == "/" {
		return abs, true, fmt.Errorf("%w: refusing to delete /", ErrInvalidPath)
	}
	lst, err := os.Lstat(abs)
	if err != nil {
		return abs, false, notFound(asStatError(err))
	}
	wasDir = lst.IsDir()
	if recursive && wasDir {
		if err := os.RemoveAll(abs); err != nil {
			return abs, wasDir, fmt.Errorf("error deleting directory: %w", err)
		}
		return abs, wasDir, nil
	}
	if err := os.Remove(abs); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return abs, wasDir, fmt.Errorf("error deleting directory: %w", notEmptyError{err})
		}
		what := "file"
		if wasDir {
			what = "directory"
		}
		return abs, wasDir, fmt.Errorf("error deleting %s: %w", what, notFound(err))
	}
	return abs, wasDir, nil
}

// notEmptyError is the error of removing a folder that has entries: its
// text is the system's ("remove /x: directory not empty", what the existing
// daemon answers), and it is ErrNotEmpty for errors.Is.
type notEmptyError struct{ err error }

func (e notEmptyError) Error() string        { return e.err.Error() }
func (e notEmptyError) Unwrap() error        { return e.err }
func (e notEmptyError) Is(target error) bool { return target == ErrNotEmpty }
