package filesystem

import (
	"fmt"
	"io/fs"
	"os"
)

// refuseSpecial answers ErrNotRegular when dest, its symbolic links
// followed, is a FIFO, socket or device: a write lands by renaming a new
// regular file over its destination, so it would replace the node itself,
// and a PUT of /dev/null would break every program of the sandbox that
// writes there. A missing path, a regular file and a folder (which the
// callers refuse with their own error) pass.
func refuseSpecial(dest string) error {
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil
	}
	return specialError(dest, fi.Mode())
}

// specialError is the error of a write refused because dest is a node of
// type m.
func specialError(dest string, m fs.FileMode) error {
	return fmt.Errorf("write %s: %w (%s): it is never replaced by a file", dest, ErrNotRegular, nodeKind(m))
}

// nodeKind names the type of a file that is neither a regular file nor a
// folder, in the words ls(1) users know.
func nodeKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
