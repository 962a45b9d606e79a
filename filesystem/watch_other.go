//go:build !linux

package filesystem

import "context"

// startWatch needs inotify; the daemon runs in Linux containers.
func startWatch(ctx context.Context, w *Watcher, isDir bool, opts WatchOptions) error {
	return ErrWatchUnsupported
}
