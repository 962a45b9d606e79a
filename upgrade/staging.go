package upgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The upgrade folder (Config.Dir) holds the binaries of the switch: the
// new one, fetched or copied there so that what is checked is what is
// executed, and a copy of the running one, kept for a roll-back. It is
// the daemon's own: created 0700, and refused when it is anything else (a
// link, another owner), since the workload may write where it is (/tmp).
const (
	candidatePrefix = "candidate-"
	previousPrefix  = "previous-"
)

// prepareDir makes the upgrade folder, or checks the one there.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("upgrade folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("upgrade folder: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("upgrade folder %s is not a folder (a link?)", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("upgrade folder %s does not belong to the daemon's user", dir)
	case fi.Mode().Perm() != 0o700:
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("upgrade folder %s: %w", dir, err)
		}
	}
	return nil
}

// stage copies at most limit bytes of src into a new executable file of
// the folder, named with prefix, hashing them; progress is told the bytes
// copied so far. The file is closed before it returns: a binary open for
// writing cannot be executed (ETXTBSY).
func stage(dir, prefix string, src io.Reader, limit int64, progress func(int64)) (path, sum string, err error) {
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return "", "", fmt.Errorf("create a file in the upgrade folder: %w", err)
	}
	path = f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), &countingReader{r: io.LimitReader(src, limit+1), progress: progress})
	if err == nil && n > limit {
		err = fmt.Errorf("%w: larger than %d bytes", ErrDownload, limit)
	}
	if err == nil {
		err = f.Chmod(0o700)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if !errors.Is(err, ErrDownload) {
			err = fmt.Errorf("%w: %w", ErrDownload, err)
		}
		return "", "", err
	}
	return path, hex.EncodeToString(h.Sum(nil)), nil
}

// countingReader tells progress how many bytes went through.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.n)
	}
	return n, err
}

// keepRunning copies the binary this image runs (/proc/self/exe, readable
// even when its file was replaced or removed since) into the folder: the
// binary a failed switch rolls back to.
func keepRunning(dir string) (string, error) {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return "", fmt.Errorf("read the running binary: %w", err)
	}
	defer self.Close()
	path, _, err := stage(dir, previousPrefix, self, 1<<40, nil)
	if err != nil {
		return "", fmt.Errorf("keep the running binary: %w", err)
	}
	return path, nil
}

// runningIn is the binary this image runs when it is a file of dir, else
// "".
func runningIn(dir string) string {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil || filepath.Dir(exe) != filepath.Clean(dir) {
		return ""
	}
	return exe
}

// removeStaged removes binaries of the upgrade folder that a switch no
// longer needs (the new binary's file once it failed, the copy kept for a
// roll-back once the switch is over, the binary of an earlier switch),
// but never the one this image runs. Only the files of this daemon's own
// switches are removed: another daemon may share the folder.
func removeStaged(paths ...string) {
	running, _ := os.Stat("/proc/self/exe")
	for _, path := range paths {
		if path == "" {
			continue
		}
		base := filepath.Base(path)
		if !strings.HasPrefix(base, candidatePrefix) && !strings.HasPrefix(base, previousPrefix) {
			continue
		}
		if fi, err := os.Stat(path); err == nil && running != nil && os.SameFile(fi, running) {
			continue
		}
		_ = os.Remove(path)
	}
}
