package filesystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk is how much a streamed write lets pile up in the page
// cache before it asks the kernel to start writing it to disk. The fsync
// before a file lands (see AtomicFile.finish) then finds little left to
// do, so the disk works while the bytes still arrive rather than after;
// and an upload holds at most this much dirty memory of its own, not its
// whole size, until then.
const writebackChunk = 8 << 20

// startWriteback asks the kernel to start writing n bytes of f from off
// to disk, and does not wait for it (SYNC_FILE_RANGE_WRITE). It promises
// nothing: only an fsync does, and every write still ends with one. A
// failure here is left for that fsync to report.
func startWriteback(f *os.File, off, n int64) {
	conn, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = conn.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
