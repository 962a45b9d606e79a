package upgrade

import (
	"os"
	"path/filepath"
	"time"
)

// The defaults of an upgrade's bounds (Config); each is the one place its
// value is written.
const (
	// DefaultMaxBinaryBytes bounds a binary fetched or copied: the daemon
	// is about 11 MiB; a file many times that is no build of it.
	DefaultMaxBinaryBytes int64 = 256 << 20
	// DefaultDownloadTimeout bounds a download, redirects included: a
	// slow link fetches 11 MiB well within it, a stalled one is not
	// waited for forever.
	DefaultDownloadTimeout = 10 * time.Minute
	// DefaultVersionTimeout bounds the new binary's answer to --version:
	// a build of the daemon answers at once; something that hangs is no
	// such build. It is generous because the machine may be loaded.
	DefaultVersionTimeout = 10 * time.Second
	// DefaultFreezeWait bounds, for all the services of a switch
	// together, the wait for what they let finish before they freeze: a
	// terminal socket's close handshake, a port callback under way. Past
	// it these are cut (by the exec) and made again by the next image;
	// meanwhile new connections wait in the listening socket's backlog.
	DefaultFreezeWait = 3 * time.Second
)

// maxVersionOutput bounds what is kept of the answer to --version: one
// line is expected.
const maxVersionOutput = 4 << 10

// maxStateBytes bounds the hand-over state a new image reads: records of
// thousands of processes fit many times over.
const maxStateBytes = 64 << 20

// DefaultDir is the folder of the binaries an upgrade fetches, and of the
// copy of the running binary kept for a roll-back.
func DefaultDir() string { return filepath.Join(os.TempDir(), "sandbox-api-upgrade") }
