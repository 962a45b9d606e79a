// Package filesystem reads, writes, uploads, searches and watches the
// container's files for the daemon. It knows nothing of HTTP: paths are
// plain strings, relative ones taken from the configured working directory.
package filesystem

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// Config tunes an FS. Zero values take the documented defaults.
type Config struct {
	WorkingDir string        // relative paths resolve against it; default: the daemon's working directory
	UploadDir  string        // parts of multipart uploads; default: $TMPDIR/sandbox-api-uploads
	UploadTTL  time.Duration // an upload untouched this long is removed; default 24 h
	Logger     *zap.Logger
}

// FS is the daemon's view of the container's files.
type FS struct {
	cfg     Config
	uploads *uploads
	watches *inotifyHub // the inotify instance all watches share
}

// New prepares an FS and starts cleaning abandoned uploads.
func New(cfg Config) (*FS, error) {
	if cfg.WorkingDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("filesystem: working directory: %w", err)
		}
		cfg.WorkingDir = wd
	}
	if cfg.UploadDir == "" {
		cfg.UploadDir = filepath.Join(os.TempDir(), "sandbox-api-uploads")
	}
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	f := &FS{cfg: cfg, watches: &inotifyHub{}}
	u, err := newUploads(cfg)
	if err != nil {
		return nil, err
	}
	f.uploads = u
	return f, nil
}

// Close stops background work.
func (f *FS) Close() { f.uploads.close() }

// WorkingDir is where relative paths start.
func (f *FS) WorkingDir() string { return f.cfg.WorkingDir }

// Resolve turns a path from a client into a clean absolute path: relative
// paths are taken from the working directory, "" is the working directory.
func (f *FS) Resolve(p string) string {
	if p == "" {
		return f.cfg.WorkingDir
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.cfg.WorkingDir, p)
	}
	return filepath.Clean(p)
}
