package watch

import (
	"path/filepath"
	"syscall"
)

// A watched file is watched through its folder, keeping only the events of
// its name. Watching its inode instead would lose it at the first atomic
// replace, the daemon's own writes included: a rename over the file leaves
// the watch on the old inode, which is gone. Through the folder, a file the
// daemon replaces is one WRITE and the watch goes on; one replaced by
// another rename (an editor's save) is a CREATE, and goes on too. A change
// made through another hard link of the file is not seen.

// fileFolder is the folder to watch for the file at path, and the file's
// name in it: a symbolic link is followed, since the file it points to is
// the one whose changes matter.
func fileFolder(path string) (folder, name string, err error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", "", err
	}
	return filepath.Dir(real), filepath.Base(real), nil
}

// handleFile turns one event of the watched file's folder into the file's
// watch events; false ends the watch.
func (tw *treeWatch) handleFile(ev rawEvent) bool {
	folder := tw.folder[tw.rootWD]
	switch {
	case ev.wd != tw.rootWD:
		return true // a watch removed a moment ago
	case ev.name == "":
		if ev.mask&syscall.IN_MOVE_SELF != 0 { // the file went along
			tw.emit(OpRename, tw.root)
			tw.fail(tw.root, tw.root+" was moved; the watch ends")
			return false
		}
		return true // removed: the file's own removal ended the watch already
	case ev.name != tw.file:
		if tw.files.IsOwnTemp(ev.name) {
			tw.atomicWrite(ev, filepath.Join(folder, ev.name), tw.root) // it may be about to replace the file
		}
		return true
	}
	if tw.atomicWrite(ev, filepath.Join(folder, ev.name), tw.root) {
		return true
	}
	for _, op := range opsOf(ev.mask) {
		tw.emit(op, tw.root)
	}
	switch {
	case ev.mask&syscall.IN_DELETE != 0:
		tw.fail(tw.root, tw.root+" is gone; the watch ends")
		return false
	case ev.mask&syscall.IN_MOVED_FROM != 0:
		tw.fail(tw.root, tw.root+" was moved; the watch ends")
		return false
	}
	return true
}
