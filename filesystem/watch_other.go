//go:build !linux

package filesystem

import "context"

// startWatch needs inotify; the daemon runs in Linux containers.
func startWatch(ctx context.Context, hub *inotifyHub, writes *inflightWrites, w *Watcher, isDir bool, opts WatchOptions) error {
	return ErrWatchUnsupported
}

// inotifyHub has nothing to share where there is no inotify.
type inotifyHub struct{}
