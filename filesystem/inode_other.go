//go:build !linux

package filesystem

import "io/fs"

// inodeOf is only needed by the watches, which need Linux.
func inodeOf(fs.FileInfo) (ino, dev uint64, ok bool) { return 0, 0, false }
