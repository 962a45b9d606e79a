package upgrade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symbolic links followed while resolving a path, as
// the kernel does (ELOOP).
const maxLinks = 40

// resolveRootOnly resolves path, following symbolic links, and checks that
// only root could have chosen what it names: every folder walked through
// and the file itself are owned by root and writable by no group and no
// other user. A link is followed only from such a folder, so no one else
// could have made or changed it. It returns the resolved path.
func resolveRootOnly(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%s is not absolute", path)
	}
	if err := rootOnly("/"); err != nil {
		return "", err
	}
	cur := "/"
	rest := splitPath(path)
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		next := filepath.Join(cur, name)
		if name == ".." {
			cur = next // a folder on the way here, checked already
			continue
		}
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", fmt.Errorf("%s: %w", path, syscall.ELOOP)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(splitPath(target), rest...)
			continue
		}
		if err := rootOnlyInfo(next, fi); err != nil {
			return "", err
		}
		if fi.IsDir() {
			cur = next
			continue
		}
		if len(rest) > 0 {
			return "", fmt.Errorf("%s: %w", next, syscall.ENOTDIR)
		}
		return next, nil
	}
	return cur, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func rootOnly(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	return rootOnlyInfo(path, fi)
}

// rootOnlyInfo: owned by root, writable by no group and no other user.
func rootOnlyInfo(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner to check", path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%s belongs to uid %d, not root", path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by its group or others (%04o)", path, fi.Mode().Perm())
	}
	return nil
}

// openBinary opens the binary at path for a copy. With rootOnly, the path
// is resolved and checked (resolveRootOnly), then the file opened is the
// one checked: opened without following a link, and its owner and mode
// checked again on the open descriptor, which a rename cannot change.
func openBinary(path string, requireRootOnly bool) (*os.File, error) {
	if requireRootOnly {
		resolved, err := resolveRootOnly(path)
		if err != nil {
			return nil, fmt.Errorf("%w: under --user a binaryPath must be root's and writable by nobody else, its folders too: %v", ErrNotAllowed, err)
		}
		path = resolved
	}
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK // a FIFO must not block the open
	if requireRootOnly {
		flags |= unix.O_NOFOLLOW // resolved and checked: a link now is a swap
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrDownload, path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil && requireRootOnly {
		if rerr := rootOnlyInfo(path, fi); rerr != nil {
			err = fmt.Errorf("%w: %v", ErrNotAllowed, rerr)
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, ErrNotAllowed) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrDownload, path, err)
	}
	return f, nil
}
