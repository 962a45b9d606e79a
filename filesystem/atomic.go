package filesystem

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

var (
	// ErrNoSpace: the disk or the quota is full (ENOSPC, EDQUOT).
	ErrNoSpace = errors.New("no space left on device")
	// ErrSourceRead: the content to write could not be read (a client that
	// went away, a malformed body): the writer's side, not the disk's.
	ErrSourceRead = errors.New("reading the content to write")
)

// DefaultFilePermissions applies to a new file written without permissions.
const DefaultFilePermissions fs.FileMode = 0o644

// copyBufferSize is the chunk of a streamed write: large enough for few
// syscalls, small enough that an upload costs almost no memory.
const copyBufferSize = 256 << 10

// AtomicFile is a file being written beside its destination. The
// destination only changes when Commit renames the finished, synced file
// over it: a write that fails or is abandoned leaves the old file as it was
// and no temporary file behind (once Abort ran).
//
// The temporary file is hidden from the FS's listings, searches and watches
// (see tempname.go and inflightWrites), and listed in the FS's journal while
// it exists, so a crash cannot leave it behind for good (see journal.go).
type AtomicFile struct {
	dest    string
	tmp     *os.File
	tmpPath string
	size    int64
	done    bool
	// flushed is where the writeback started so far ends (see
	// startWriteback): bytes before it are on their way to disk.
	flushed int64

	writes *inflightWrites
	write  *inflightWrite
	ended  bool        // writes.end was called
	id     fileID      // of the temporary file, known once it is finished
	user   *runas.User // the identity its path operations take (see Config.User)
}

// fileID identifies a file whatever its name.
type fileID struct{ ino, dev uint64 }

// CreateAtomic starts writing dest (an absolute path). The temporary file
// goes in dest's folder, or in its nearest existing ancestor when that
// folder is still missing: folders are only created by Commit, so a failed
// write creates none. Call Abort when done, even after Commit.
func (f *FS) CreateAtomic(dest string) (*AtomicFile, error) {
	return createAtomic(f.writes, f.cfg.User, dest)
}

func createAtomic(writes *inflightWrites, user *runas.User, dest string) (*AtomicFile, error) {
	defer user.Enter()()
	if isDir(dest) {
		return nil, fmt.Errorf("write %s: %w", dest, ErrIsDirectory)
	}
	if err := refuseSpecial(dest); err != nil {
		return nil, err // before the body is read: nothing to undo
	}
	dir, err := existingAncestor(filepath.Dir(dest))
	if err != nil {
		return nil, err
	}
	return createAtomicIn(writes, user, dir, dest)
}

// maxTempAttempts bounds the retries on a name that exists already (only a
// copy of one of our temporary files can take one).
const maxTempAttempts = 100

func createAtomicIn(writes *inflightWrites, user *runas.User, dir, dest string) (*AtomicFile, error) {
	for range maxTempAttempts {
		w := writes.begin(dir, dest)
		tmp, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return &AtomicFile{dest: dest, tmp: tmp, tmpPath: w.path, writes: writes, write: w, user: user}, nil
		}
		writes.end(w)
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("write %s: create a temporary file in %s: %w", dest, dir, diskError(err))
		}
	}
	return nil, fmt.Errorf("write %s: create a temporary file in %s: every name tried exists", dest, dir)
}

// existingAncestor returns dir or its nearest ancestor that exists. A
// file on the way means the destination cannot be created.
func existingAncestor(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && fi.IsDir():
			return d, nil
		case err == nil:
			return "", fmt.Errorf("%s is a file, not a folder: %w", d, ErrNotDirectory)
		case errors.Is(err, fs.ErrNotExist) && d != filepath.Dir(d):
			continue
		default:
			return "", fmt.Errorf("stat %s: %w", d, err)
		}
	}
}

// Dest is where the file lands on Commit.
func (a *AtomicFile) Dest() string { return a.dest }

// Size is how many bytes were written so far.
func (a *AtomicFile) Size() int64 { return a.size }

// Write appends p to the temporary file.
func (a *AtomicFile) Write(p []byte) (int, error) {
	if a.tmp == nil {
		return 0, fmt.Errorf("write %s: already committed or aborted", a.dest)
	}
	n, err := a.tmp.Write(p)
	a.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", a.dest, diskError(err))
	}
	a.writeback()
	return n, nil
}

// writeback starts writing to disk what was written since the last time,
// once that is writebackChunk or more.
func (a *AtomicFile) writeback() {
	if a.size-a.flushed >= writebackChunk {
		startWriteback(a.tmp, a.flushed, a.size-a.flushed)
		a.flushed = a.size
	}
}

// ReadFrom streams r into the file in fixed-size chunks. Errors from r
// wrap ErrSourceRead; errors of the disk are the disk's (see ErrNoSpace).
// An *os.File, whole or from its offset through an *io.LimitedReader, is
// copied by the kernel instead (see readFile), and a source that keeps its
// bytes in a buffer of its own writes them in itself (see readWriterTo).
func (a *AtomicFile) ReadFrom(r io.Reader) (int64, error) {
	switch src := r.(type) {
	case *os.File:
		return a.readFile(src)
	case *io.LimitedReader:
		if _, ok := src.R.(*os.File); ok {
			return a.readFile(src)
		}
	case io.WriterTo:
		return a.readWriterTo(src)
	}
	buf := make([]byte, copyBufferSize)
	var total int64
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := a.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, fmt.Errorf("%w: %w", ErrSourceRead, rerr)
		}
	}
}

// readWriterTo lets src write its bytes in from its own buffer: a form
// field (internal/formdata) hands over pieces of up to its whole buffer,
// with no copy into one of ours. What fails is told apart by who failed:
// an error of the file's own writes is the disk's, any other src's.
func (a *AtomicFile) readWriterTo(src io.WriterTo) (int64, error) {
	w := &recordedWrites{w: a}
	n, err := src.WriteTo(w)
	if err != nil && w.err == nil {
		err = fmt.Errorf("%w: %w", ErrSourceRead, err)
	}
	return n, err
}

// recordedWrites passes writes on to w and keeps the first error w gave.
type recordedWrites struct {
	w   io.Writer
	err error
}

func (r *recordedWrites) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// readFile lets the kernel copy a local file, src (an *os.File or an
// *io.LimitedReader of one), with copy_file_range (a reflink on some
// filesystems) rather than pass it through user space. A local file is no
// client, so its errors are not ErrSourceRead.
func (a *AtomicFile) readFile(src io.Reader) (int64, error) {
	if a.tmp == nil {
		return 0, fmt.Errorf("write %s: already committed or aborted", a.dest)
	}
	n, err := a.tmp.ReadFrom(src)
	a.size += n
	if err != nil {
		return n, fmt.Errorf("write %s: %w", a.dest, diskError(err))
	}
	a.writeback()
	return n, nil
}

// Commit lands the file at its destination with mode, or, when mode is
// nil, with the mode of the file it replaces (DefaultFilePermissions for a
// new one). See CommitAs.
func (a *AtomicFile) Commit(mode *fs.FileMode) error { return a.CommitAs(a.dest, mode) }

// CommitAs lands the file at dest, which may differ from the destination it
// was created for. A symbolic link at dest is followed, so the file it
// points to is replaced; the owner of a replaced file is kept (acting as a
// user, who must be allowed to write the file, a file of someone else's
// becomes the user's: only root may give files away). The data is synced
// before the rename and the folder after it. Missing parent folders are
// created.
func (a *AtomicFile) CommitAs(dest string, mode *fs.FileMode) error {
	if a.done {
		return fmt.Errorf("write %s: already committed or aborted", dest)
	}
	defer a.user.Enter()()
	dest = followLink(dest)
	old, err := os.Stat(dest)
	switch {
	case err == nil && old.IsDir():
		a.Abort()
		return fmt.Errorf("write %s: %w", dest, ErrIsDirectory)
	case err == nil && !old.Mode().IsRegular():
		// Checked again: dest may differ from the path the file was
		// created for, or a node may have been made there meanwhile.
		a.Abort()
		return specialError(dest, old.Mode())
	case err == nil && a.user != nil && !mayWrite(dest):
		// The rename needs only the folder: the file's own permissions
		// must refuse the user as an in-place write would.
		a.Abort()
		return fmt.Errorf("write %s: %w", dest, fs.ErrPermission)
	case err == nil:
		if uid, gid, ok := ownerIDs(old); ok {
			_ = a.tmp.Chown(int(uid), int(gid)) // best effort: only root may give files away
		}
		if mode == nil {
			m := old.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
			mode = &m
		}
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
	default:
		a.Abort()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if mode == nil {
		m := DefaultFilePermissions
		mode = &m
	}
	if err := a.finish(*mode); err != nil {
		return err
	}
	if err := mkdirAll(filepath.Dir(dest)); err != nil {
		a.Abort()
		return fmt.Errorf("write %s: create its folder: %w", dest, mkdirError(err))
	}
	// Watches learn of the rename before it happens: they may see it at once.
	_, lerr := os.Lstat(dest)
	a.writes.land(a.write, Landing{dest: dest, Replaced: lerr == nil, ino: a.id.ino, dev: a.id.dev})
	err = os.Rename(a.tmpPath, dest)
	if errors.Is(err, syscall.EXDEV) {
		// Only when CommitAs moved the destination across a mount point.
		a.writes.unland(a.write)
		err = a.copyAcross(dest, *mode)
	}
	if err != nil {
		a.writes.unland(a.write)
		a.Abort()
		if isDir(dest) {
			return fmt.Errorf("write %s: %w", dest, ErrIsDirectory)
		}
		return fmt.Errorf("write %s: %w", dest, diskError(err))
	}
	a.done = true
	a.end()
	syncDir(filepath.Dir(dest))
	return nil
}

// finish applies the mode, syncs and closes the temporary file. Chmod on
// the open file is exact: the umask does not apply.
func (a *AtomicFile) finish(mode fs.FileMode) error {
	if err := a.tmp.Chmod(mode); err != nil {
		a.Abort()
		return fmt.Errorf("write %s: chmod: %w", a.dest, err)
	}
	if err := a.tmp.Sync(); err != nil {
		a.Abort()
		return fmt.Errorf("write %s: sync: %w", a.dest, diskError(err))
	}
	if fi, err := a.tmp.Stat(); err == nil {
		if ino, dev, ok := inodeOf(fi); ok {
			a.id = fileID{ino: ino, dev: dev}
		}
	}
	err := a.tmp.Close()
	a.tmp = nil
	if err != nil {
		a.Abort()
		return fmt.Errorf("write %s: close: %w", a.dest, diskError(err))
	}
	return nil
}

// copyAcross lands the finished temporary file on another filesystem: a
// second atomic file beside dest, then the first one is removed.
func (a *AtomicFile) copyAcross(dest string, mode fs.FileMode) error {
	src, err := os.Open(a.tmpPath)
	if err != nil {
		return err
	}
	defer src.Close()
	b, err := createAtomicIn(a.writes, a.user, filepath.Dir(dest), dest)
	if err != nil {
		return err
	}
	defer b.Abort()
	if _, err := b.ReadFrom(src); err != nil {
		return err
	}
	if err := b.CommitAs(dest, &mode); err != nil {
		return err
	}
	_ = os.Remove(a.tmpPath)
	return nil
}

// Abort drops the temporary file. It is safe to call at any time, more
// than once, and after Commit (then it does nothing).
func (a *AtomicFile) Abort() {
	if a.tmp != nil {
		_ = a.tmp.Close()
		a.tmp = nil
	}
	if !a.done {
		leave := a.user.Enter()
		_ = os.Remove(a.tmpPath)
		leave()
		a.done = true
	}
	a.end()
}

// end tells the registry, once, that the temporary file is gone.
func (a *AtomicFile) end() {
	if !a.ended {
		a.ended = true
		a.writes.end(a.write)
	}
}

// followLink resolves dest when it is a symbolic link to an existing file,
// so writing through a link updates its target, as an ordinary write would.
func followLink(dest string) string {
	lst, err := os.Lstat(dest)
	if err != nil || lst.Mode()&fs.ModeSymlink == 0 {
		return dest
	}
	if real, err := filepath.EvalSymlinks(dest); err == nil {
		return real
	}
	return dest // a dangling link is replaced by the file
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// syncDir makes a rename durable. It is best effort: the file has landed
// either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// noSpaceError marks a full disk while keeping the system's own error.
type noSpaceError struct{ err error }

func (e noSpaceError) Error() string        { return e.err.Error() }
func (e noSpaceError) Unwrap() error        { return e.err }
func (e noSpaceError) Is(target error) bool { return target == ErrNoSpace }

// diskError tags a full disk as ErrNoSpace, and drops the temporary file's
// name from the message: the client only knows its destination.
func diskError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return noSpace(err)
}

// noSpace tags a full disk (ENOSPC, EDQUOT) as ErrNoSpace and leaves the
// message as it is; other errors, nil included, pass unchanged.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return noSpaceError{err}
	}
	return err
}

// Kernel limits on path names (PATH_MAX counts the final NUL; NAME_MAX is
// that of every common Linux file system).
const (
	maxPathLen = 4096
	maxNameLen = 255
)

// mkdirAll is os.MkdirAll(dir, 0o755) that first refuses a path the kernel
// would refuse (ENAMETOOLONG): os.MkdirAll would create the parents that
// fit before failing, leaving thousands of folders behind a 400.
func mkdirAll(dir string) error {
	tooLong := len(dir) >= maxPathLen
	for name := range strings.SplitSeq(dir, "/") {
		tooLong = tooLong || len(name) > maxNameLen
	}
	if tooLong {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENAMETOOLONG}
	}
	return os.MkdirAll(dir, 0o755)
}

// mkdirError tells a file in the way of a folder apart from other failures.
func mkdirError(err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("%w: %w", ErrNotDirectory, err)
	}
	return diskError(err)
}
