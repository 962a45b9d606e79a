package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Watches are plain inotify, one instance shared by the watches of a
// Service (hub_linux.go). inotify is used directly (not through a library)
// because a recursive watch needs exact control of the masks: a
// subfolder's own IN_MOVE_SELF/IN_DELETE_SELF must not be reported a second
// time after its parent's IN_MOVED_FROM/IN_DELETE.

// folderMask is what every watched folder reports about its entries.
// IN_EXCL_UNLINK: nothing more about an entry once it is unlinked.
const folderMask = syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_DELETE |
	syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_ATTRIB |
	syscall.IN_EXCL_UNLINK

// subfolderMask adds, for folders found inside the tree, refusals to follow
// a symlink or to watch something that became a file in the meantime.
const subfolderMask = folderMask | syscall.IN_ONLYDIR | syscall.IN_DONT_FOLLOW

// rootMask adds the events of the watched folder itself: nothing above it
// reports them, and the watch ends with them. A watched file is watched
// through its folder (watch_file_linux.go), with the same mask.
const rootMask = folderMask | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ONLYDIR

// inotify is one inotify instance. Watches are added and removed through
// RawConn.Control, which keeps the descriptor from being closed (and its
// number reused) while a call is in flight.
type inotify struct {
	file   *os.File
	raw    syscall.RawConn
	closed sync.Once
}

func newInotify() (*inotify, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		if errors.Is(err, syscall.EMFILE) {
			return nil, fmt.Errorf("%w: no inotify instance left (fs.inotify.max_user_instances): %w", ErrLimit, err)
		}
		return nil, fmt.Errorf("inotify_init: %w", err)
	}
	// Non-blocking, so reads wait in the runtime's poller and Close wakes them.
	file := os.NewFile(uintptr(fd), "inotify")
	raw, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &inotify{file: file, raw: raw}, nil
}

func (in *inotify) add(path string, mask uint32) (int, error) {
	wd, addErr := -1, error(nil)
	if err := in.raw.Control(func(fd uintptr) {
		wd, addErr = syscall.InotifyAddWatch(int(fd), path, mask)
	}); err != nil {
		return -1, err
	}
	if addErr != nil {
		if errors.Is(addErr, syscall.ENOSPC) {
			return -1, fmt.Errorf("%w (raise fs.inotify.max_user_watches): %w", ErrLimit, addErr)
		}
		return -1, addErr
	}
	return wd, nil
}

func (in *inotify) remove(wd int) {
	_ = in.raw.Control(func(fd uintptr) {
		_, _ = syscall.InotifyRmWatch(int(fd), uint32(wd))
	})
}

// close releases the instance and all its watches; it may be called again,
// from any goroutine. A second os.File.Close returns at once, even while the
// first is still closing, so the Once makes every caller wait until the
// descriptor is really closed: Watcher.Close promises the watches are gone.
func (in *inotify) close() { in.closed.Do(func() { _ = in.file.Close() }) }

// treeWatch is the state of one watch. Only its own goroutine touches it
// (before that goroutine starts, only startWatch does).
type treeWatch struct {
	shared *sharedInotify
	raw    *rawQueue // this watch's events, from the shared reader
	files  Files     // what is watched, the daemon's atomic writes among it (atomic_linux.go)
	moves  moveMemo  // temporary files moved away, waiting for their landing
	root   string
	rootWD int
	file   string // for the watch of a file, its name in the folder rootWD watches
	opts   Options
	q      *eventQueue
	ctx    context.Context
	folder map[int]string // watch descriptor → folder
	wdOf   map[string]int // folder → watch descriptor
	user   *runas.User    // folders are watched and listed as this user
}

// startWatch arms the watch of w.root (and, recursively, of the folders
// below it) and starts delivering its events. Once it has returned nil, the
// watch calls files.WatchEnded when it is over.
func startWatch(ctx context.Context, hub *inotifyHub, files Files, w *Watcher, isDir bool, opts Options) error {
	raw := newRawQueue(rawQueueLimit)
	shared, err := hub.acquire(raw)
	if err != nil {
		return err
	}
	tw := &treeWatch{
		shared: shared,
		raw:    raw,
		files:  files,
		root:   w.root,
		opts:   opts,
		q:      w.queue,
		ctx:    ctx,
		folder: map[int]string{},
		wdOf:   map[string]int{},
		user:   w.user,
	}
	folder := w.root
	if !isDir {
		if folder, tw.file, err = fileFolder(w.root); err != nil {
			shared.release(raw, nil)
			return err
		}
	}
	wd, err := shared.add(raw, folder, rootMask)
	if err != nil {
		shared.release(raw, nil)
		return err
	}
	tw.rootWD = wd
	tw.track(wd, folder)
	if !isDir {
		// It may have gone before its folder was watched.
		if _, err := os.Lstat(filepath.Join(folder, tw.file)); err != nil {
			tw.release()
			return err
		}
	}
	if isDir && opts.Recursive {
		// Problems below the root are events: the root itself is armed.
		tw.scan(w.root, false, &walk{})
	}
	if err := ctx.Err(); err != nil {
		tw.release()
		return err
	}

	go func() {
		defer func() {
			files.WatchEnded()
			close(w.done)
		}()
		defer tw.q.close() // once released: the reader learns the end last
		defer tw.release() // the root went away: let go of everything now
		tw.run()
	}()
	return nil
}

// release gives back the watch's descriptors and its use of the instance.
func (tw *treeWatch) release() {
	wds := make([]int, 0, len(tw.folder))
	for wd := range tw.folder {
		wds = append(wds, wd)
	}
	tw.shared.release(tw.raw, wds)
}

// run handles the watch's events until it is cancelled or its root goes.
func (tw *treeWatch) run() {
	for {
		ev, ok := tw.raw.pop(tw.ctx)
		if !ok || !tw.handle(ev) {
			return
		}
	}
}

func (tw *treeWatch) track(wd int, folder string) {
	tw.folder[wd] = folder
	tw.wdOf[folder] = wd
}

func (tw *treeWatch) untrack(wd int) {
	if folder, ok := tw.folder[wd]; ok {
		delete(tw.wdOf, folder)
		delete(tw.folder, wd)
	}
}

// forget stops watching folder and every folder below it: it was moved
// away or removed, so the paths of those watches no longer hold.
func (tw *treeWatch) forget(folder string) {
	prefix := folder + string(filepath.Separator)
	for wd, p := range tw.folder {
		if wd != tw.rootWD && (p == folder || strings.HasPrefix(p, prefix)) {
			tw.shared.remove(tw.raw, wd)
			tw.untrack(wd)
		}
	}
}

func (tw *treeWatch) emit(op Op, path string) {
	if !ignored(path, tw.opts.Ignore) {
		tw.q.push(Event{Op: op, Path: path})
	}
}

func (tw *treeWatch) fail(path, msg string) {
	tw.q.push(Event{Op: OpError, Path: path, Err: msg})
}

// walk carries what one recursive descent learned: once the kernel has no
// watch left, or the watch holds its most folders (Options.MaxFolders),
// trying the thousands of folders that follow is pointless, and one event
// says so.
type walk struct{ full bool }

// watchFolder watches a folder found in the tree, then what it holds.
// announce reports every entry found as CREATE: they were made before the
// watch could see them (mkdir -p a/b/c, an unpacked archive, a moved tree).
func (tw *treeWatch) watchFolder(folder string, announce bool, wk *walk) {
	if wk.full || tw.ctx.Err() != nil {
		return
	}
	if _, ok := tw.wdOf[folder]; ok {
		return
	}
	if tw.files.IsKernelFolder(folder) {
		return // /proc, /sys, /dev: a watch of one of them still works
	}
	if len(tw.folder) >= tw.opts.MaxFolders {
		wk.full = true
		tw.fail(folder, fmt.Sprintf("changes under %s are not reported: this watch holds %d folders, the most one watch may hold; watch a narrower folder, or ignore some", folder, len(tw.folder)))
		return
	}
	// The kernel checks the right to watch when the watch is added.
	defer tw.user.Enter()()
	wd, err := tw.shared.add(tw.raw, folder, subfolderMask)
	switch {
	case err == nil:
		tw.track(wd, folder)
		tw.scan(folder, announce, wk)
	case errors.Is(err, ErrLimit):
		wk.full = true
		tw.fail(folder, fmt.Sprintf("changes under %s are not reported: %v", folder, err))
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		// Gone or replaced already; its removal is reported by its parent.
	default:
		tw.fail(folder, fmt.Sprintf("cannot watch %s: %v", folder, err))
	}
}

// scan goes through a watched folder's entries, watching its subfolders.
func (tw *treeWatch) scan(folder string, announce bool, wk *walk) {
	entries, err := os.ReadDir(folder)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tw.fail(folder, fmt.Sprintf("cannot list %s: %v", folder, err))
	}
	for _, e := range entries {
		p := filepath.Join(folder, e.Name())
		if ignored(p, tw.opts.Ignore) || tw.files.IsOwnTemp(e.Name()) {
			continue
		}
		if announce {
			tw.announce(p, e)
		}
		if e.IsDir() { // a symlink to a folder is not followed
			tw.watchFolder(p, announce, wk)
		}
	}
}

// announce reports an entry found in a new folder: CREATE, and for a file an
// atomic write of the daemon landed there, the WRITE its landing would have
// shown.
func (tw *treeWatch) announce(p string, e os.DirEntry) {
	if e.Type().IsRegular() {
		if l, ok := tw.files.LandedHere(p); ok {
			l.Replaced = false // new to this watch
			tw.reportLanding(p, l)
			return
		}
	}
	tw.emit(OpCreate, p)
}

// inotifyHeader is the fixed part of struct inotify_event.
const inotifyHeader = syscall.SizeofInotifyEvent

// handle turns one inotify event into watch events; false ends the watch.
func (tw *treeWatch) handle(ev rawEvent) bool {
	if ev.err != "" {
		tw.fail(tw.root, ev.err)
		return false
	}
	wd, mask, name := ev.wd, ev.mask, ev.name
	if mask&syscall.IN_Q_OVERFLOW != 0 {
		tw.fail(tw.root, "the kernel's event queue overflowed (fs.inotify.max_queued_events): events were lost")
		return true
	}
	if tw.file != "" && mask&syscall.IN_IGNORED == 0 {
		return tw.handleFile(ev)
	}
	folder, ok := tw.folder[wd]
	if !ok {
		return true // a watch removed a moment ago
	}
	if mask&syscall.IN_IGNORED != 0 { // removed by the kernel, or by forget
		tw.untrack(wd)
		if wd == tw.rootWD {
			tw.fail(tw.root, tw.root+" is gone; the watch ends")
			return false
		}
		return true
	}
	path := tw.root
	switch {
	case name != "":
		path = filepath.Join(folder, name)
	case wd != tw.rootWD:
		return true // a subfolder's own event: its parent reports it too
	}
	if name != "" && tw.atomicWrite(ev, path, path) {
		return true
	}

	for _, op := range opsOf(mask) {
		tw.emit(op, path)
	}

	if wd == tw.rootWD && name == "" && mask&syscall.IN_MOVE_SELF != 0 {
		// The root lives on elsewhere, under a path nobody asked for.
		tw.fail(tw.root, tw.root+" was moved; the watch ends")
		return false
	}
	if tw.opts.Recursive && mask&syscall.IN_ISDIR != 0 && name != "" {
		if mask&(syscall.IN_MOVED_FROM|syscall.IN_DELETE) != 0 {
			tw.forget(path)
		}
		if mask&(syscall.IN_CREATE|syscall.IN_MOVED_TO) != 0 && !ignored(path, tw.opts.Ignore) {
			tw.watchFolder(path, true, &walk{})
		}
	}
	return true
}

// opsOf lists the operations of an inotify mask, in a fixed order.
func opsOf(mask uint32) []Op {
	var ops []Op
	if mask&(syscall.IN_CREATE|syscall.IN_MOVED_TO) != 0 {
		ops = append(ops, OpCreate)
	}
	if mask&syscall.IN_MODIFY != 0 {
		ops = append(ops, OpWrite)
	}
	if mask&(syscall.IN_DELETE|syscall.IN_DELETE_SELF) != 0 {
		ops = append(ops, OpRemove)
	}
	if mask&(syscall.IN_MOVED_FROM|syscall.IN_MOVE_SELF) != 0 {
		ops = append(ops, OpRename)
	}
	if mask&syscall.IN_ATTRIB != 0 {
		ops = append(ops, OpChmod)
	}
	return ops
}
