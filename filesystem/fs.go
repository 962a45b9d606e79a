package filesystem

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Config tunes an FS. Zero values take the documented defaults.
type Config struct {
	WorkingDir string // relative paths resolve against it; default: the daemon's working directory
	UploadDir  string // parts of multipart uploads; default: $TMPDIR/sandbox-api-uploads
	// JournalDir holds the journals of the atomic writes in flight
	// (journal.go); default: $TMPDIR/sandbox-api-journal. Daemons may share
	// it: each has its own journal, and cleans only those of gone daemons.
	JournalDir string
	UploadTTL  time.Duration // an upload untouched this long is removed; default DefaultUploadTTL
	MaxUploads int           // multipart uploads open at once; default DefaultMaxUploads
	// MaxHeavyReads bounds the heavy reads served at once (see
	// WaitHeavyRead); default DefaultMaxHeavyReads.
	MaxHeavyReads int
	Logger        *zap.Logger
	// User is the identity every operation on the caller's paths takes
	// (nil: the daemon's): what is written belongs to it, and what it may
	// not read or write is refused (see runas). The daemon's own files
	// (uploads' parts, the journal) stay the daemon's.
	User *runas.User
}

// FS is the daemon's view of the container's files.
type FS struct {
	cfg     Config
	uploads *uploads
	writes  *inflightWrites // the atomic writes, as the watches need to know them
	heavy   *heavyReads     // the queue of reads that hold their answer in memory
}

// New prepares an FS: it removes the temporary files that daemons gone
// before left behind (see journal.go), and starts cleaning abandoned uploads.
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
	if cfg.JournalDir == "" {
		cfg.JournalDir = filepath.Join(os.TempDir(), "sandbox-api-journal")
	}
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = DefaultUploadTTL
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	f := &FS{cfg: cfg, heavy: newHeavyReads(cfg.MaxHeavyReads)}
	u, err := newUploads(cfg)
	if err != nil {
		return nil, err
	}
	journal, err := openJournal(cfg.JournalDir, cfg.Logger)
	if err != nil {
		// Writes work without it; only a crash would leave files behind.
		cfg.Logger.Warn("no journal of atomic writes: temporary files a crash leaves behind will stay", zap.Error(err))
	}
	f.writes = newInflightWrites(journal)
	u.writes = f.writes
	f.uploads = u
	return f, nil
}

// Close stops background work.
func (f *FS) Close() {
	f.uploads.close()
	f.writes.journal.close()
}

// WorkingDir is where relative paths start.
func (f *FS) WorkingDir() string { return f.cfg.WorkingDir }

// User is the identity operations on the caller's paths take (nil: the
// daemon's); the watches of these files take it too.
func (f *FS) User() *runas.User { return f.cfg.User }

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
