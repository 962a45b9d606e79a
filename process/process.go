package process

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is one managed command: its record, its output and its control.
// Restarts reuse the record, the log and the identifiers. Its operations
// live one to a file: start.go, spawn.go, pump.go, supervise.go,
// restart.go, keepalive.go, stop.go, wait.go, stdin.go, ports_linux.go.
type Process struct {
	m    *Manager
	id   uint64
	pid  string // first attempt's OS pid; immutable once visible
	name string
	spec Spec // WorkingDir resolved
	// requestedDir is the working directory as the request gave it ("" for
	// the default), which the record echoes.
	requestedDir string
	log          *Log
	done         chan struct{} // closed when the process has ended for good
	// journaled is closed once the record's line is in the records
	// journal (noteStarted); nil for a record an earlier run or image
	// journaled.
	journaled chan struct{}
	// earlier: the record is of an earlier run of the daemon, ended as a
	// restart found it (recover.go).
	earlier bool

	ended atomic.Bool

	mu           sync.Mutex
	status       Status
	exitCode     int
	startedAt    time.Time
	completedAt  time.Time
	restartCount int
	att          *attempt // the attempt running now, or the last one
	alive        bool     // att runs and has not been reaped: its pgid is ours to signal
	intent       Status   // the end a client asked for: stopped or killed
	wake         chan struct{}
	stdin        *stdinPipe
	stdinClosed  bool // the client closed stdin: later attempts get none
	// restartAt is when the next attempt starts, while a restart waits
	// out its delay (zero otherwise): a supervisor stopped by a freeze
	// resumes the wait from it.
	restartAt time.Time
	// lifetimeAt ends a keepAlive process (zero: no lifetime, or it has
	// done so already); lifetimeOf is that lifetime, for the notice.
	lifetimeAt time.Time
	lifetimeOf time.Duration
	lifetime   *time.Timer
}

// attempt is one run of the command: its OS process and its output.
type attempt struct {
	pid int
	// pidfd is the child's pidfd from its clone, which the quick watch
	// polls and release closes; -1: none (no pidfds here, or an attempt
	// resumed from an earlier image of the daemon).
	pidfd int
	out   *output
	// writers are the daemon's own copies of the child's stdout and stderr
	// write ends, kept open while the quick watch runs (see quickWatch)
	// and closed by it; none once closed, or never kept. Only the
	// supervisor touches them.
	writers [2]pipeWriteEnd
	exit    exitWait // the supervisor's wait for its end, which out hurries up
	// Set by the supervisor once it reaped the process, under Process.mu.
	reaped bool
	code   int
	status *syscall.WaitStatus // nil when an earlier image of the daemon reaped it
}

// Done is closed once the process has ended for good.
func (p *Process) Done() <-chan struct{} { return p.done }

// Log is the process's output.
func (p *Process) Log() *Log { return p.log }

// Name is the process's name.
func (p *Process) Name() string { return p.name }

// PID is the process's identifier: the first attempt's OS pid, as a string.
func (p *Process) PID() string { return p.pid }

// OSPID is the OS pid of the attempt running now, 0 when none runs: the root
// of the process tree whose sockets the network package inspects.
func (p *Process) OSPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.alive || p.att == nil {
		return 0
	}
	return p.att.pid
}
