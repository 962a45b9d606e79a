package watch

import (
	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Files is all a watch needs of the files it watches; *filesystem.FS is
// the daemon's. An interface rather than the FS itself, so that what the
// watches take from the file system is written down in one place (and the
// translation of atomic writes can be tested on events made up at will).
type Files interface {
	// Resolve turns a client's path into a clean absolute path.
	Resolve(path string) string
	// User is the identity folders are watched and listed as (nil: the
	// daemon's): the kernel checks the right to watch when a watch is added.
	User() *runas.User
	// IsKernelFolder reports the top-level folders of the kernel's pseudo
	// file systems (/proc, /sys, /dev), which a recursive watch of "/"
	// skips as the searches do.
	IsKernelFolder(path string) bool
	AtomicWrites
}

// AtomicWrites is the registry of the daemon's own atomic writes (a
// temporary file renamed over its destination), which a watch reports as
// the in-place writes they stand for (atomic_linux.go).
type AtomicWrites interface {
	// IsOwnTemp reports the temporary names of the daemon's writes: their
	// own events are never reported.
	IsOwnTemp(name string) bool
	// LandingOf is what the write of the temporary file name recorded
	// before its rename.
	LandingOf(name string) (filesystem.Landing, bool)
	// LandedHere tells whether the file now at path is one a write landed
	// there: a move whose first half the watch did not see.
	LandedHere(path string) (filesystem.Landing, bool)
	// WatchStarted and WatchEnded bracket each watch: ended writes are
	// remembered only while a watch may still see their events.
	WatchStarted()
	WatchEnded()
}

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	// MaxFolders bounds the folders one watch holds (Options.MaxFolders);
	// default DefaultMaxFolders.
	MaxFolders int
}

// Service watches the files of one file system. All its watches share one
// inotify instance (hub_linux.go).
type Service struct {
	files   Files
	cfg     Config
	watches *inotifyHub // the inotify instance all watches share
}

// New returns the watches of files.
func New(files Files, cfg Config) *Service {
	if cfg.MaxFolders <= 0 {
		cfg.MaxFolders = DefaultMaxFolders
	}
	return &Service{files: files, cfg: cfg, watches: &inotifyHub{}}
}
