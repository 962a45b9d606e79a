package process

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Status is the lifecycle state of a managed process, as the wire reports it.
type Status string

const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusStopped   Status = "stopped"
	StatusKilled    Status = "killed"
)

// TimeoutSeconds turns a timeout given in whole seconds into a Duration,
// refusing negative ones and ones a Duration cannot hold (about 292
// years), which would wrap around to a short or negative wait.
func TimeoutSeconds(n int) (time.Duration, error) {
	if n < 0 {
		return 0, invalidSpec("timeout must not be negative")
	}
	if n > maxTimeoutSeconds {
		return 0, invalidSpec("timeout must be at most %d seconds", maxTimeoutSeconds)
	}
	return time.Duration(n) * time.Second, nil
}

const maxTimeoutSeconds = int(math.MaxInt64 / int64(time.Second))

// Spec describes a process to start.
type Spec struct {
	Command    string
	Name       string            // empty: a unique name is generated
	WorkingDir string            // empty: the manager's working directory
	Env        map[string]string // added to the daemon's environment
	// Timeout is the lifetime limit of a keepAlive process (nil: the default,
	// 0: none). It is ignored without KeepAlive: a client's wait is bounded
	// by the caller, never by killing the process.
	Timeout          *time.Duration
	KeepAlive        bool
	RestartOnFailure bool
	MaxRestarts      int // negative: unlimited
	Stdin            bool
}

// Info is a consistent snapshot of a process record.
type Info struct {
	PID              string // the first attempt's OS pid; stable across restarts
	Name             string
	Command          string
	WorkingDir       string // absolute: where the command runs
	RequestedDir     string // the working directory as the request gave it ("" for the default)
	Status           Status
	ExitCode         int // 0 while running; -1 when stopped or ended by a signal
	StartedAt        time.Time
	CompletedAt      time.Time // zero while running
	KeepAlive        bool
	RestartOnFailure bool
	MaxRestarts      int
	RestartCount     int
	Stdin            bool
}

// Errors callers can match with errors.Is.
var (
	ErrNotFound      = errors.New("process not found")
	ErrNameInUse     = errors.New("a running process already has this name")
	ErrInvalidSpec   = errors.New("invalid process request")
	ErrStart         = errors.New("failed to start process")
	ErrWaitTimeout   = errors.New("process timed out")
	ErrPortsTimeout  = errors.New("ports did not open in time")
	ErrExited        = errors.New("process exited")
	ErrNoStdin       = errors.New("process was not started with stdin")
	ErrStdinClosed   = errors.New("stdin is closed")
	ErrStdinBlocked  = errors.New("process is not reading its stdin")
	ErrUnknownSignal = errors.New("unknown signal")
	ErrShuttingDown  = errors.New("daemon is shutting down")
)

// SpecError says what is wrong with a request the manager refuses before
// anything runs. It matches ErrInvalidSpec; callers that word the problem
// their own way (the HTTP API names the request body) use Problem.
type SpecError struct {
	Problem string
}

func (e *SpecError) Error() string { return ErrInvalidSpec.Error() + ": " + e.Problem }

func (e *SpecError) Unwrap() error { return ErrInvalidSpec }

func invalidSpec(format string, args ...any) error {
	return &SpecError{Problem: fmt.Sprintf(format, args...)}
}
