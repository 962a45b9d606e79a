// Package fdholders tells whether any other process holds a file open. The
// daemon asks it when a child has exited but its output (a pipe, a
// terminal) has not reached end of file: if nobody else holds the other end,
// the end of file is already there and only the reader is late, so the
// output is worth waiting for; if an orphan holds it, it may be held for as
// long as the orphan lives.
package fdholders

import (
	"os"
	"strconv"
	"syscall"
)

// ID identifies an open file across processes: its device and inode.
type ID struct{ Dev, Ino uint64 }

func idOf(fi os.FileInfo) (ID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ID{}, false
	}
	return ID{Dev: uint64(st.Dev), Ino: st.Ino}, true
}

// Of identifies an open file; ok is false when it cannot be read.
func Of(f *os.File) (ID, bool) {
	fi, err := f.Stat()
	if err != nil {
		return ID{}, false
	}
	return idOf(fi)
}

// OfOpen identifies those of files that are still open: a reader closes
// its end at end of file, and then nobody holds the other one.
func OfOpen(files ...*os.File) []ID {
	var ids []ID
	for _, f := range files {
		if id, ok := Of(f); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// OfPath identifies the file at path.
func OfPath(path string) (ID, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return ID{}, false
	}
	return idOf(fi)
}

// HeldElsewhere reports whether a process other than this one has one of
// the files open. With no file to look for it answers true, the cautious
// answer. Processes whose descriptors cannot be read (another user's,
// reached only through a setuid program) are not counted, so callers keep
// their waits bounded.
func HeldElsewhere(ids []ID) bool {
	if len(ids) == 0 {
		return true
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range procs {
		pid := e.Name()
		if pid == self || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		dir := "/proc/" + pid + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			// Stat follows the descriptor's link to the open file itself,
			// without opening it: a pipe, a terminal, a FIFO alike.
			fi, err := os.Stat(dir + fd.Name())
			if err != nil {
				continue
			}
			if id, ok := idOf(fi); ok && contains(ids, id) {
				return true
			}
		}
	}
	return false
}

func contains(ids []ID, id ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
