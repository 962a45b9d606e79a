package filesystem

import (
	"io/fs"
	"os"
	"syscall"
)

// ownerIDs reads the uid and gid of a file from its stat data.
func ownerIDs(fi fs.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}

// openNoBlock opens p for reading without blocking: a FIFO swapped in
// after the caller checked the path must not hang the request.
func openNoBlock(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
