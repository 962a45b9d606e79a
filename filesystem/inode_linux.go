package filesystem

import (
	"io/fs"
	"syscall"
)

// inodeOf is the identity of a file whatever its name: LandedHere uses it
// to tell a watch whether the file at a path is the one an atomic write
// landed there.
func inodeOf(fi fs.FileInfo) (ino, dev uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Ino), uint64(st.Dev), true // widths vary by architecture
}
