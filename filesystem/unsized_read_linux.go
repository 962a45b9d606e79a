package filesystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// onKernelFS reports whether file lives on procfs or sysfs, whose sizes are
// placeholders (see SizeKnown). A file whose file system cannot be told is
// taken at its word. The descriptor is used through Control: Fd would
// switch it to blocking mode.
func onKernelFS(file *os.File) bool {
	raw, err := file.SyscallConn()
	if err != nil {
		return false
	}
	var st unix.Statfs_t
	var statErr error = unix.EINVAL
	if err := raw.Control(func(fd uintptr) { statErr = unix.Fstatfs(int(fd), &st) }); err != nil || statErr != nil {
		return false
	}
	return st.Type == unix.PROC_SUPER_MAGIC || st.Type == unix.SYSFS_MAGIC
}
