package process

import (
	"errors"
	"fmt"
)

// Errors callers can match with errors.Is. Each front door turns them into
// its own answers (an HTTP status, an MCP tool error); none of them names a
// transport.
var (
	// ErrNotFound: no process has this pid or name (or it was pruned).
	ErrNotFound = errors.New("process not found")
	// ErrNameInUse: a running process already holds the requested name.
	ErrNameInUse = errors.New("a running process already has this name")
	// ErrInvalidSpec: the request is refused before anything runs; the
	// error is a *SpecError that says why.
	ErrInvalidSpec = errors.New("invalid process request")
	// ErrStart: the request was valid but the command could not start
	// (a missing working directory included).
	ErrStart = errors.New("failed to start process")
	// ErrWaitTimeout: a wait gave up; the process keeps running.
	ErrWaitTimeout = errors.New("process timed out")
	// ErrPortsTimeout: the ports did not listen in time; the process keeps
	// running.
	ErrPortsTimeout = errors.New("ports did not open in time")
	// ErrExited: the process ended before what was waited for happened.
	ErrExited = errors.New("process exited")
	// ErrNoStdin: the process was started without a stdin pipe.
	ErrNoStdin = errors.New("process was not started with stdin")
	// ErrStdinClosed: a client closed the stdin pipe, or the process ended.
	ErrStdinClosed = errors.New("stdin is closed")
	// ErrStdinBlocked: a write did not go through within StdinWriteTimeout.
	ErrStdinBlocked = errors.New("process is not reading its stdin")
	// ErrUnknownSignal: ParseSignal does not know the name or number.
	ErrUnknownSignal = errors.New("unknown signal")
	// ErrShuttingDown: the manager refuses new starts once Shutdown began.
	ErrShuttingDown = errors.New("daemon is shutting down")
	// ErrSwitching: the manager is frozen while the daemon switches to a
	// new binary (Freeze); starts, stops, kills and stdin writes are
	// refused until it resumes, in the next image or this one. A retry
	// a moment later goes through.
	ErrSwitching = errors.New("the daemon is switching to a new binary; retry in a moment")
	// ErrFreezeUnsupported: the kernel cannot wait for a child without
	// reaping it (no pidfds), so the manager cannot hand its processes on.
	ErrFreezeUnsupported = errors.New("processes cannot be handed to a new binary here: the kernel has no pidfds")
	// ErrHandover: a state handed over by an earlier image cannot be
	// resumed (unknown version, a descriptor or a child that is not
	// there).
	ErrHandover = errors.New("cannot resume the processes of the earlier image")
	// ErrLogDirLocked: another daemon holds the log folder (LockLogDir).
	ErrLogDirLocked = errors.New("another sandbox-api is using the log dir")
	// ErrNotLogDirLock: a descriptor handed over is not the lock of the
	// log folder, neither the folder itself nor the lock file of an
	// earlier version (AdoptLogDirLock).
	ErrNotLogDirLock = errors.New("not the lock of this log dir")
)

// SpecError says what is wrong with a request the manager refuses before
// anything runs. It matches ErrInvalidSpec; callers that word the problem
// their own way (the HTTP API names the request body) use Problem.
type SpecError struct {
	Problem string
}

// Error is ErrInvalidSpec's text and the problem, for a door that passes
// the error on as it is (MCP).
func (e *SpecError) Error() string { return ErrInvalidSpec.Error() + ": " + e.Problem }

// Unwrap makes a SpecError match ErrInvalidSpec.
func (e *SpecError) Unwrap() error { return ErrInvalidSpec }

// invalidSpec is the SpecError of a refused request. The problem is a
// phrase that reads on its own, so that a door may put its own words
// before it.
func invalidSpec(format string, args ...any) error {
	return &SpecError{Problem: fmt.Sprintf(format, args...)}
}
