package process

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/fdholders"
)

// output is the read ends of one attempt's stdout and stderr pipes, each
// copied into the process's log by a pump (pump.go) until end of file. It
// may outlive its attempt, and even its record, while a background child
// holds the pipes: the manager keeps every output with an open pipe
// (Manager.outputs), so that a freeze stops every pump and hands every
// such pipe on, and no child writing to one gets SIGPIPE from a switch.
type output struct {
	p       *Process
	mu      sync.Mutex
	files   [2]*os.File   // stdout, stderr; nil once that pipe reached end of file (and was closed)
	drained chan struct{} // closed once both reached end of file
	pumps   sync.WaitGroup
	// frozen: a freeze stopped the pumps, leaving the pipes open for
	// Thaw or for the next image.
	frozen atomic.Bool
	// pending: the attempt was just spawned and nothing reads its pipes
	// yet; its supervisor's quick watch (quickwatch_linux.go) or
	// startPumps does, unless a freeze or run came first.
	pending bool
	// drainedHint, if set, is called once both pipes reached end of file:
	// the sign that the attempt's process has just exited (exitWait.hint).
	drainedHint func()
	// spent are the pipes that reached end of file, left open until the
	// attempt's end is answered (closeSpent); once it was, a pipe that
	// reaches end of file (held by an orphan until then) is closed at once.
	spent    []*os.File
	released bool
}

// outputStreams are the streams of output.files, in order.
var outputStreams = [2]Stream{Stdout, Stderr}

// newOutput registers the pipes of an attempt of p with the manager. Either
// may be nil: already at end of file (a resumed output). Nothing reads them
// yet: run, startPumps or a quick watch starts that.
func (m *Manager) newOutput(p *Process, stdout, stderr *os.File) *output {
	o := &output{p: p, files: [2]*os.File{stdout, stderr}, drained: make(chan struct{}), pending: true}
	if stdout == nil && stderr == nil {
		close(o.drained)
		return o
	}
	m.outMu.Lock()
	m.outputs[o] = struct{}{}
	m.outMu.Unlock()
	return o
}

// liveOutputs are the outputs with a pipe not yet at end of file.
func (m *Manager) liveOutputs() []*output {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	out := make([]*output, 0, len(m.outputs))
	for o := range m.outputs {
		out = append(out, o)
	}
	return out
}

// run starts a pump for each pipe not yet at end of file: after a thaw or
// a resume.
func (o *output) run() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.frozen.Store(false)
	o.pending = false
	o.startPumpsLocked()
}

// startPumps starts the pumps of a just-spawned attempt, unless a freeze
// or a run came first (a thaw runs them).
func (o *output) startPumps() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending && !o.frozen.Load() {
		o.pending = false
		o.startPumpsLocked()
	}
}

func (o *output) startPumpsLocked() {
	for i, f := range o.files {
		if f != nil {
			f = pollablePipe(f) // clears a freeze's deadline, if any
			o.files[i] = f
			o.pumps.Add(1)
			go o.pump(i, f)
		}
	}
}

// freeze stops the pumps at a clean point and returns once they have: a
// read deadline in the past wakes a pump blocked in read, and what a read
// returned is in the log before the pump stops. The pipes stay open.
func (o *output) freeze() {
	o.mu.Lock()
	o.frozen.Store(true)
	for _, f := range o.files {
		if f != nil {
			_ = f.SetReadDeadline(time.Unix(1, 0))
		}
	}
	o.mu.Unlock()
	o.pumps.Wait()
}

// reachedEOF is done with pipe i, whose writers have all let go, and
// closes drained once both are. The pipe itself is closed later
// (closeSpent): its close (two system calls, the poller's and the file's)
// is not on the way to the answer an exec waits for.
func (o *output) reachedEOF(i int) {
	o.mu.Lock()
	f := o.files[i]
	o.files[i] = nil
	both := o.files[0] == nil && o.files[1] == nil
	now := o.released
	if f != nil && !now {
		o.spent = append(o.spent, f)
	}
	o.mu.Unlock()
	if f != nil && now {
		_ = f.Close()
	}
	if both {
		close(o.drained)
		if o.drainedHint != nil {
			o.drainedHint()
		}
		m := o.p.m
		m.outMu.Lock()
		delete(m.outputs, o)
		m.outMu.Unlock()
	}
}

// drainedNow reports whether both pipes reached end of file already.
func (o *output) drainedNow() bool {
	select {
	case <-o.drained:
		return true
	default:
		return false
	}
}

// closeSpent closes the pipes that reached end of file, and from then on
// each pipe as it does.
func (o *output) closeSpent() {
	o.mu.Lock()
	spent := o.spent
	o.spent, o.released = nil, true
	o.mu.Unlock()
	for _, f := range spent {
		_ = f.Close()
	}
}

// openFiles are the pipes not yet at end of file, in stream order (nil for
// one that is).
func (o *output) openFiles() [2]*os.File {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.files
}

// holders identifies the open pipes, for fdholders.HeldElsewhere.
func (o *output) holders() []fdholders.ID {
	files := o.openFiles()
	var open []*os.File
	for _, f := range files {
		if f != nil {
			open = append(open, f)
		}
	}
	return fdholders.OfOpen(open...)
}
