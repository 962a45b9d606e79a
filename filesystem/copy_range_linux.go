package filesystem

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyRange copies n bytes at srcOff of src to dstOff of dst, neither
// file's offset moving: by the kernel (copy_file_range), or through user
// space where the file systems cannot (another one, an old kernel). A
// source that ends early is an error: the bytes were promised.
func copyRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	// Fd is harmless here: regular files are never in the poller.
	for first := true; n > 0; first = false {
		c, err := unix.CopyFileRange(int(src.Fd()), &srcOff, int(dst.Fd()), &dstOff, int(min(n, 1<<30)), 0)
		switch {
		case first && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)):
			c, err := io.Copy(io.NewOffsetWriter(dst, dstOff), io.NewSectionReader(src, srcOff, n))
			if err == nil && c != n {
				err = io.ErrUnexpectedEOF
			}
			return err
		case err != nil:
			return err
		case c == 0:
			return fmt.Errorf("%s ends %d bytes early: %w", src.Name(), n, io.ErrUnexpectedEOF)
		}
		n -= int64(c)
	}
	return nil
}
