package process

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// pipeInode identifies a pipe across processes: /proc/<pid>/fd/<n> of every
// holder links to "pipe:[<inode>]".
func pipeInode(f *os.File) uint64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

// pipesHeldElsewhere reports whether a process other than the daemon holds
// one of the pipes. The daemon keeps only the read ends, so such a holder is
// a descendant keeping a write end open: an orphan whose output may go on
// for as long as it lives. Processes whose descriptors cannot be read (another
// user's, reached only through a setuid program) are not counted; the
// caller's wait stays bounded for them.
func pipesHeldElsewhere(inodes []uint64) bool {
	want := make(map[string]bool, len(inodes))
	for _, ino := range inodes {
		if ino != 0 {
			want["pipe:["+strconv.FormatUint(ino, 10)+"]"] = true
		}
	}
	if len(want) == 0 {
		return true // unknown pipes: assume the worst, as before the scan
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
			target, err := os.Readlink(dir + fd.Name())
			if err == nil && strings.HasPrefix(target, "pipe:") && want[target] {
				return true
			}
		}
	}
	return false
}
