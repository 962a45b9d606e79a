package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/upgrade"
)

// defaultLogDir is where process output goes when nothing else is said.
const defaultLogDir = "/var/log/sandbox-api"

// resolveLogDir picks the folder for process output. A folder the operator
// chose (flag or environment) must work, or startup fails: silently writing
// elsewhere would hide the mistake. The built-in default falls back to
// fallback, since unprivileged images often cannot write under /var/log.
func resolveLogDir(explicit, preferred, fallback string) (dir string, fellBack bool, err error) {
	if explicit != "" {
		if err := ensureWritable(explicit); err != nil {
			return "", false, fmt.Errorf("log dir: %w", err)
		}
		return explicit, false, nil
	}
	preferredErr := ensureWritable(preferred)
	if preferredErr == nil {
		return preferred, false, nil
	}
	if err := ensureWritable(fallback); err != nil {
		return "", false, fmt.Errorf("log dir: %w (and fallback: %w)", preferredErr, err)
	}
	return fallback, true, nil
}

// ensureWritable creates dir if needed and proves it takes files by creating
// one: permission bits alone say nothing about read-only mounts.
func ensureWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("write in %s: %w", dir, err)
	}
	name := probe.Name()
	closeErr := probe.Close()
	removeErr := os.Remove(name)
	if closeErr != nil {
		return fmt.Errorf("write in %s: %w", dir, closeErr)
	}
	if removeErr != nil {
		return fmt.Errorf("remove probe file in %s: %w", dir, removeErr)
	}
	return nil
}

// lockLogDir takes the log folder for this daemon alone (see
// process.LockLogDir): a second daemon on it refuses to start, saying which
// folder and which daemon holds it. The returned file holds the lock.
func lockLogDir(dir string, logger *zap.Logger) (*os.File, error) {
	f, err := process.LockLogDir(dir)
	if err != nil {
		logger.Error("cannot start: the log dir is in use; give this daemon its own --log-dir",
			zap.String("log_dir", dir), zap.Error(err))
		return nil, err
	}
	return f, nil
}

// holdLogDir takes the log folder for this daemon alone (lockLogDir). An
// image started by a switch adopts the lock the earlier image held and
// handed over instead: a lock of its own would conflict with that one, and
// letting it go for a moment would let another daemon in.
func holdLogDir(dir string, inh *upgrade.Inherited, logger *zap.Logger) (*os.File, error) {
	if inh == nil || inh.Lock() == nil {
		return lockLogDir(dir, logger)
	}
	f := inh.Lock()
	if err := process.AdoptLogDirLock(dir, f); err != nil {
		logger.Error("cannot take over the log dir's lock from the earlier image", zap.String("log_dir", dir), zap.Error(err))
		return nil, err
	}
	return f, nil
}
