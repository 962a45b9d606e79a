package process

import "time"

// Status is the lifecycle state of a managed process, as the wire reports it.
type Status string

// The statuses a process goes through: running, then exactly one of the
// others, for good (restarts happen while running).
const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed" // exited 0
	StatusFailed    Status = "failed"    // exited non-zero or by a signal nobody asked for
	StatusStopped   Status = "stopped"   // ended after Stop (or Shutdown)
	StatusKilled    Status = "killed"    // ended after Kill or its keepAlive lifetime
)

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

// Info returns a snapshot of the record.
func (p *Process) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Info{
		PID:              p.pid,
		Name:             p.name,
		Command:          p.spec.Command,
		WorkingDir:       p.spec.WorkingDir,
		RequestedDir:     p.requestedDir,
		Status:           p.status,
		ExitCode:         p.exitCode,
		StartedAt:        p.startedAt,
		CompletedAt:      p.completedAt,
		KeepAlive:        p.spec.KeepAlive,
		RestartOnFailure: p.spec.RestartOnFailure,
		MaxRestarts:      p.spec.MaxRestarts,
		RestartCount:     p.restartCount,
		Stdin:            p.spec.Stdin,
	}
}
