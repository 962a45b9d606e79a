package process

import "time"

// The defaults of a Manager's bounds (Config), which the daemon's flags
// also show: each is the one place its value is written.
const (
	// DefaultMaxLogBytesPerProcess bounds the output kept on disk for one
	// process: a chatty build's log fits, a runaway loop's does not fill
	// the disk. Past it the oldest output is dropped.
	DefaultMaxLogBytesPerProcess int64 = 128 << 20
	// DefaultMaxLogBytesTotal bounds the output kept for all processes
	// together; past it the oldest output of any process goes first.
	DefaultMaxLogBytesTotal int64 = 1 << 30
	// DefaultMaxEndedProcesses bounds the records of ended processes kept
	// for GET /process: enough for a session's history, few enough that
	// listing them stays cheap.
	DefaultMaxEndedProcesses = 256
	// DefaultShutdownGrace is the time Shutdown leaves between SIGTERM and
	// SIGKILL: most programs save and exit well within it, and a container
	// runtime usually allows about as long before killing everything.
	DefaultShutdownGrace = 10 * time.Second
)
