package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Op names what happened to a path.
type Op string

// The operations a watch reports. OpError marks an event that reports a
// problem of the watch itself (events lost, a folder that could not be
// watched); its Err says what.
const (
	OpCreate Op = "CREATE"
	OpWrite  Op = "WRITE"
	OpRemove Op = "REMOVE"
	OpRename Op = "RENAME"
	OpChmod  Op = "CHMOD"
	OpError  Op = "ERROR"
)

// Event is one change under a watched path. Path is the absolute path of
// the entry that changed (for OpError, the folder concerned).
type Event struct {
	Op   Op
	Path string
	Err  string
}

// Options tunes a watch.
type Options struct {
	// Recursive watches the whole tree: folders created later are added
	// (what they already hold is reported as CREATE), removed ones dropped.
	Recursive bool
	// Ignore drops events whose absolute path contains any of these
	// substrings; in a recursive watch matching folders are not watched at all.
	Ignore []string
	// Buffer is how many events wait for a slow reader before newer ones
	// are dropped (and one OpError event says how many); default 4096.
	Buffer int
	// MaxFolders bounds the folders (kernel watches) this watch holds;
	// past it a folder is not watched and an OpError event says so.
	// Default: the Service's Config.MaxFolders.
	MaxFolders int
}

// DefaultMaxFolders bounds the folders one recursive watch holds
// (Config.MaxFolders). Each costs the kernel a watch and keeps its
// inode cached, and costs the daemon its path: a watch of "/" entering
// /proc took 31,000 of them and 11 MB. A project with its node_modules
// fits; a larger tree should be watched in parts, or with ignore.
const DefaultMaxFolders = 16384

// defaultBuffer bounds the memory one slow watcher can hold: a few hundred
// KB of events.
const defaultBuffer = 4096

// ErrLimit is wrapped by Watch when the kernel refuses another inotify
// instance or watch (fs.inotify.max_user_instances / max_user_watches).
var ErrLimit = errors.New("out of inotify watches")

// Watcher delivers the events of one watch until it is closed. Its reader
// takes them straight from the watch's bounded queue (Ready, then Take):
// no goroutine stands between the two, since each hand-over from one
// goroutine to another may wake a thread, which costs an event more than
// anything else on its way to the client.
type Watcher struct {
	root   string
	queue  *eventQueue // filled by the watch's goroutine, emptied by Take
	cancel context.CancelFunc
	done   chan struct{} // closed once its goroutines are gone and its inotify watches released
	user   *runas.User   // folders are watched and listed as this user (see Files.User)
}

// Root is the absolute path being watched.
func (w *Watcher) Root() string { return w.root }

// Ready receives a signal when events may be waiting, or the watch may have
// ended: then Take them. A signal may find nothing to take.
func (w *Watcher) Ready() <-chan struct{} { return w.queue.ready }

// Take moves up to len(into) waiting events into into, in order, without
// waiting, and says how many: all that wait when into is large enough, so
// that a reader writes them out together. When into was filled, more may
// wait with no new signal: take again before waiting on Ready.
//
// open is false once the watch has ended and every event was taken: its
// context was cancelled, Close was called, or the watched path itself was
// removed or moved (reported first as an event).
func (w *Watcher) Take(into []Event) (n int, open bool) { return w.queue.take(into) }

// Close ends the watch and waits until its inotify watches are released.
func (w *Watcher) Close() {
	w.cancel()
	<-w.done
}

// Watch starts watching path (a folder, or a single file). The watch is
// armed when Watch returns: every later change is reported. The daemon's
// own atomic writes show as in-place writes would: a replaced file is one
// WRITE (and the watch of that file goes on), a new one CREATE then WRITE;
// their temporary files are never reported. Errors wrap
// os.ErrNotExist for a missing path, and ErrLimit when the kernel has
// no inotify instance, or no watch for the path itself, left; a folder
// below the root that cannot be watched is an OpError event instead.
func (s *Service) Watch(ctx context.Context, path string, opts Options) (*Watcher, error) {
	user := s.files.User()
	defer user.Enter()()
	root := s.files.Resolve(path)
	info, err := os.Stat(root)
	if err != nil {
		return nil, err // names the path already
	}
	if opts.Buffer <= 0 {
		opts.Buffer = defaultBuffer
	}
	if opts.MaxFolders <= 0 {
		opts.MaxFolders = s.cfg.MaxFolders
	}
	opts.Ignore = cleanPatterns(opts.Ignore)
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{
		root:   root,
		queue:  newEventQueue(root, opts.Buffer),
		cancel: cancel,
		done:   make(chan struct{}),
		user:   user,
	}
	s.files.WatchStarted() // before any inotify watch: see AtomicWrites
	if err := startWatch(ctx, s.watches, s.files, w, info.IsDir(), opts); err != nil {
		s.files.WatchEnded()
		cancel()
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	return w, nil
}

// cleanPatterns drops empty patterns: "a,,b" or a trailing comma must not
// turn into a pattern that matches every path.
func cleanPatterns(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ignored reports whether path contains one of the patterns.
func ignored(path string, patterns []string) bool {
	for _, p := range patterns {
		if strings.Contains(path, p) {
			return true
		}
	}
	return false
}
