//go:build !linux

package filesystem

import "os"

// lockJournal cannot tell a live daemon's journal apart where there is no
// flock; the daemon runs in Linux containers, one per upload folder.
func lockJournal(*os.File) (bool, error) { return true, nil }
