package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/upgrade"
)

// defaultLogDir is where process output goes when nothing else is said.
const defaultLogDir = "/var/log/sandbox-api"

// takeLogDir picks the folder for process output and takes it for this
// daemon alone (see process.LockLogDir): a second daemon on it refuses to
// start, saying which folder and which daemon holds it. A folder the
// operator chose (flag or environment) must work, or startup fails:
// silently writing elsewhere would hide the mistake. The built-in default
// falls back to fallback, since unprivileged images often cannot write under
// /var/log; a default held by another daemon does not (it works, it is
// taken). The returned file holds the lock.
func takeLogDir(explicit, preferred, fallback string) (dir string, lock *os.File, fellBack bool, err error) {
	if explicit != "" {
		lock, err := takeWritable(explicit)
		if err != nil {
			return "", nil, false, fmt.Errorf("log dir: %w", err)
		}
		return explicit, lock, false, nil
	}
	lock, preferredErr := takeWritable(preferred)
	if preferredErr == nil {
		return preferred, lock, false, nil
	}
	if errors.Is(preferredErr, process.ErrLogDirLocked) {
		return "", nil, false, fmt.Errorf("log dir: %w", preferredErr)
	}
	lock, err = takeWritable(fallback)
	if err != nil {
		return "", nil, false, fmt.Errorf("log dir: %w (and fallback: %w)", preferredErr, err)
	}
	return fallback, lock, true, nil
}

// takeWritable creates dir if needed, locks it, and checks that it takes
// new files: access(2) for writing fails on a read-only mount or an
// immutable folder, which permission bits alone do not show, and for a user
// the folder's modes keep out. It creates no probe file (a file creation
// costs 10 to 110 µs of the start here): a full disk shows when the first
// process's output file cannot be created, and that start fails with the
// reason.
func takeWritable(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	lock, err := process.LockLogDir(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("write in %s: %w", dir, err)
	}
	return lock, nil
}

// chooseLogDir is the folder for process output, taken for this daemon
// alone (see takeLogDir); an error has been logged. An image started by a
// switch adopts the lock the earlier image held and handed over instead
// (adoptLogDir).
func chooseLogDir(cfg config, inh *upgrade.Inherited, logger *zap.Logger) (string, *os.File, error) {
	fallback := filepath.Join(os.TempDir(), "sandbox-api-logs")
	if inh != nil && inh.Lock() != nil {
		logDir, err := adoptLogDir(cfg.logDir, defaultLogDir, fallback, inh.Lock())
		if err != nil {
			logger.Error("cannot take over the log dir's lock from the earlier image", zap.Error(err))
			return "", nil, err
		}
		return logDir, inh.Lock(), nil
	}
	logDir, lock, fellBack, err := takeLogDir(cfg.logDir, defaultLogDir, fallback)
	if errors.Is(err, process.ErrLogDirLocked) {
		logger.Error("cannot start: the log dir is in use; give this daemon its own --log-dir", zap.Error(err))
		return "", nil, err
	}
	if err != nil {
		logger.Error("cannot use a log dir", zap.Error(err))
		return "", nil, err
	}
	if fellBack {
		logger.Warn("default log dir is not writable, using the fallback",
			zap.String("default", defaultLogDir), zap.String("log_dir", logDir))
	}
	return logDir, lock, nil
}

// adoptLogDir is the folder whose lock is lock, which the earlier
// image held and handed over: explicit, else preferred or fallback, as
// takeLogDir chose. A lock of its own would conflict with that one, and
// letting it go for a moment would let another daemon in. No write check:
// the earlier image made it.
func adoptLogDir(explicit, preferred, fallback string, lock *os.File) (string, error) {
	if explicit != "" {
		return explicit, process.AdoptLogDirLock(explicit, lock)
	}
	preferredErr := process.AdoptLogDirLock(preferred, lock)
	if !errors.Is(preferredErr, process.ErrNotLogDirLock) {
		return preferred, preferredErr
	}
	if err := process.AdoptLogDirLock(fallback, lock); err != nil {
		return "", fmt.Errorf("%w (and fallback: %w)", preferredErr, err)
	}
	return fallback, nil
}
