package filesystem

import (
	"fmt"
	"io"
	"os"
)

// MaxUnsizedRead bounds the read of a file whose size is unknown (see
// SizeKnown), which is held in memory to learn its length. Such files are
// the kernel's: their text fits in a page or a few (/proc/self/status,
// /sys/.../online), and 1 MiB leaves room for the largest tables
// (/proc/self/maps of a big process). Others have no useful end:
// /proc/self/pagemap is 8 bytes per page of the address space, and 24 reads
// of it at once, each up to 64 MiB, took the daemon to 2.4 GB.
const MaxUnsizedRead = 1 << 20

// SizeKnown reports whether info.Size, from the stat of the open file, is
// the number of bytes a read to its end gives. It is not for an empty size
// (most of /proc, cgroup files) nor for any file of procfs or sysfs, whose
// sizes are placeholders: a sysfs attribute says 4096 whatever it holds.
func SizeKnown(file *os.File, info FileInfo) bool {
	return info.Size > 0 && !onKernelFS(file)
}

// unsizedChunk is the size of every read of ReadUnsized. It is fixed, and
// a multiple of 8, because some kernel files refuse other sizes:
// /proc/self/pagemap answers EINVAL to a read that is not.
const unsizedChunk = 32 << 10

// ReadUnsized reads file, whose size is unknown, to its end, at most limit
// bytes; past that it is ErrTooLarge, never a silent cut.
func ReadUnsized(file *os.File, limit int64) ([]byte, error) {
	var data []byte
	chunk := make([]byte, unsizedChunk)
	for int64(len(data)) <= limit {
		n, err := file.Read(chunk)
		data = append(data, chunk[:n]...)
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file.Name(), err)
		}
	}
	return nil, fmt.Errorf("%s has no size of its own and reads past %d bytes: %w", file.Name(), limit, ErrTooLarge)
}
