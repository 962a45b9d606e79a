package process

import (
	"context"
	"errors"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/exitwait"
	"github.com/sandbox-api/sandbox-api/internal/fdholders"
	"go.uber.org/zap"
)

const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

// Process is one managed command: its record, its output and its control.
// Restarts reuse the record, the log and the identifiers.
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

	ended atomic.Bool

	mu           sync.Mutex
	status       Status
	exitCode     int
	startedAt    time.Time
	completedAt  time.Time
	restartCount int
	cmd          *exec.Cmd
	alive        bool   // cmd runs and has not been waited for: its pgid is ours to signal
	intent       Status // the end a client asked for: stopped or killed
	wake         chan struct{}
	stdin        *stdinPipe
	stdinClosed  bool // the client closed stdin: later attempts get none
	lifetime     *time.Timer
	drained      chan struct{} // closed when the current attempt's pipes reach EOF
	outputs      []*os.File    // the current attempt's output pipes (read ends)
}

// Start validates spec, starts the command and returns its record. Errors
// wrap ErrInvalidSpec (bad request), ErrNameInUse, ErrStart or
// ErrShuttingDown.
func (m *Manager) Start(spec Spec) (*Process, error) {
	if strings.TrimSpace(spec.Command) == "" {
		return nil, invalidSpec("command is required")
	}
	// The kernel takes C strings: a NUL would fail the start later, as
	// if the request were fine.
	if strings.ContainsRune(spec.Command, 0) {
		return nil, invalidSpec("command contains a NUL byte")
	}
	if strings.ContainsRune(spec.WorkingDir, 0) {
		return nil, invalidSpec("workingDir contains a NUL byte")
	}
	if err := validateName(spec.Name); err != nil {
		return nil, err
	}
	for k, v := range spec.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, invalidSpec("invalid environment variable name %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return nil, invalidSpec("environment variable %s contains a NUL byte", k)
		}
	}
	requestedDir := spec.WorkingDir
	wd, err := m.resolveWorkingDir(spec.Command, spec.WorkingDir)
	if err != nil {
		return nil, err
	}
	spec.WorkingDir = wd
	name, err := m.reserveName(spec.Name)
	if err != nil {
		return nil, err
	}
	id := m.ids.Add(1)
	p := &Process{
		m:            m,
		id:           id,
		name:         name,
		spec:         spec,
		requestedDir: requestedDir,
		log:          newLog(m.cfg.LogDir, "p"+strconv.FormatUint(id, 10), m.cfg.MaxLogBytesPerProcess, func() uint64 { return m.segSeq.Add(1) }),
		done:         make(chan struct{}),
		status:       StatusRunning,
		wake:         make(chan struct{}, 1),
	}
	p.startedAt = time.Now()
	if err := p.spawn(); err != nil {
		m.releaseName(name)
		p.log.Remove()
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	p.pid = strconv.Itoa(p.cmd.Process.Pid)
	m.add(p)
	if spec.KeepAlive {
		lifetime := m.cfg.KeepAliveTimeout
		if spec.Timeout != nil {
			lifetime = *spec.Timeout
		}
		if lifetime > 0 {
			p.mu.Lock()
			p.lifetime = time.AfterFunc(lifetime, func() { p.expire(lifetime) })
			p.mu.Unlock()
		}
	}
	go p.supervise()
	return p, nil
}

// resolveWorkingDir makes dir absolute and checks that it is a folder. The
// missing folder is worded as the existing Blaxel daemon words it, since
// clients match on that text.
func (m *Manager) resolveWorkingDir(command, dir string) (string, error) {
	if dir == "" {
		dir = m.cfg.WorkingDir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(m.cfg.WorkingDir, dir)
	}
	leave := m.cfg.User.Enter() // what the user may not see does not exist
	st, err := os.Stat(dir)
	leave()
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%w: could not execute command '%s' because folder '%s' does not exist", ErrStart, command, dir)
	case err != nil:
		return "", fmt.Errorf("%w: working directory %s: %v", ErrStart, dir, err)
	case !st.IsDir():
		return "", fmt.Errorf("%w: working directory %s is not a directory", ErrStart, dir)
	}
	return dir, nil
}

// spawn starts one attempt: the shell in its own process group, its output
// pumped into the log, its stdin a pipe when asked for, else /dev/null.
func (p *Process) spawn() error {
	m := p.m
	cmd := exec.Command(m.cfg.Shell, "-c", p.spec.Command)
	cmd.Dir = p.spec.WorkingDir
	// Clipped, so that concurrent starts never append into a shared array.
	cmd.Env = m.cfg.Env[:len(m.cfg.Env):len(m.cfg.Env)]
	for k, v := range p.spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: m.cfg.User.Credential()}

	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return fmt.Errorf("stderr pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	var inR, inW *os.File
	p.mu.Lock()
	wantStdin := p.spec.Stdin && !p.stdinClosed
	p.mu.Unlock()
	if wantStdin {
		if inR, inW, err = os.Pipe(); err != nil {
			closeAll(outR, outW, errR, errW)
			return fmt.Errorf("stdin pipe: %w", err)
		}
		cmd.Stdin = inR
	}
	err = m.reaper.start(cmd)
	closeAll(outW, errW, inR) // the child holds its own copies
	if err != nil {
		closeAll(outR, errR, inW)
		return err
	}
	if m.cfg.ResetChildOOMScore {
		_ = os.WriteFile("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/oom_score_adj", []byte("0"), 0)
	}
	p.mu.Lock()
	p.cmd, p.alive = cmd, true
	if p.intent != "" {
		// A stop came after restart checked for one and before this attempt
		// could be signalled: end the attempt now.
		p.signalLocked(sigKILL)
	}
	if inW != nil {
		p.stdin = newStdinPipe(inW)
	}
	// Each attempt has its own drain signal: an orphan of an earlier attempt
	// may hold that attempt's pipes long after a restart.
	var pumps sync.WaitGroup
	pumps.Add(2)
	drained := make(chan struct{})
	p.drained = drained
	p.outputs = []*os.File{outR, errR}
	p.mu.Unlock()
	go p.pump(outR, Stdout, &pumps)
	go p.pump(errR, Stderr, &pumps)
	go func() { pumps.Wait(); close(drained) }()
	return nil
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}

// A pump's read buffer starts small (most commands print little, and a
// start should not pay for a large allocation) and grows, while reads fill
// it, up to several records, so that a fast writer costs few wakeups.
const (
	pumpBufferStart = 4 << 10
	pumpBufferSize  = 4 * maxChunk
	defaultPipeSize = 64 << 10 // Linux's default pipe capacity
)

// pump copies one pipe into the log until EOF. It is the only reader of the
// pipe, and writes only to disk, so no client can slow the process down.
func (p *Process) pump(r *os.File, s Stream, pumps *sync.WaitGroup) {
	defer pumps.Done()
	defer r.Close()
	buf := make([]byte, pumpBufferStart)
	grown := false
	failing := false // logged once per run of failed writes, not per read
	for {
		n, err := r.Read(buf)
		if !grown && n >= defaultPipeSize {
			// The process filled the whole pipe: it writes fast.
			growPipe(r)
			grown = true
		}
		if n > 0 {
			if p.m.beforeAppend != nil {
				p.m.beforeAppend()
			}
			rolled, werr := p.log.Append(s, buf[:n])
			if werr != nil && !failing {
				p.m.cfg.Logger.Error("process output not kept (readers get a marker with the count)", zap.String("name", p.name), zap.Error(werr))
			}
			failing = werr != nil
			if rolled {
				p.m.enforceDiskBudget()
			}
		}
		if err != nil {
			return
		}
		if n == len(buf) && len(buf) < pumpBufferSize {
			buf = make([]byte, min(4*len(buf), pumpBufferSize))
		}
	}
}

// supervise waits for each attempt, restarts on failure when asked, and
// records the end.
func (p *Process) supervise() {
	for {
		p.mu.Lock()
		cmd, drained, outputs := p.cmd, p.drained, p.outputs
		p.mu.Unlock()
		// No thread held while it runs. Only cmd.Wait reaps a managed child
		// (the reaper leaves managed pids alone), so the pid is still ours.
		exitwait.Await(cmd.Process.Pid)
		_ = cmd.Wait()
		p.m.reaper.waited(cmd.Process.Pid)
		// An orphan holding the pipes must not keep the process running;
		// a pump that is only late must not cut its output.
		fdholders.AwaitDrained(drained, p.m.cfg.OutputDrainGrace, p.m.lateDrainLimit,
			func() []fdholders.ID { return fdholders.OfOpen(outputs...) })

		code := exitCode(cmd.ProcessState)
		p.mu.Lock()
		p.alive = false
		if p.stdin != nil {
			p.stdin.close()
			p.stdin = nil
		}
		retry := p.intent == "" && code != 0 && p.spec.RestartOnFailure &&
			(p.spec.MaxRestarts < 0 || p.restartCount < p.spec.MaxRestarts)
		p.mu.Unlock()
		if retry && p.restart() {
			continue
		}
		p.finish(code)
		return
	}
}

// defaultLateDrainLimit bounds the wait for pumps that lag behind a process whose
// pipes nobody else holds (a setuid orphan the scan cannot see would
// otherwise hold the end back for as long as it lives). See
// fdholders.AwaitDrained.
const defaultLateDrainLimit = 5 * time.Second

// restart waits the restart delay and starts the next attempt. It reports
// false when the process must end instead (stopped meanwhile, daemon
// closing, or the new attempt could not start).
func (p *Process) restart() bool {
	t := time.NewTimer(p.m.cfg.RestartDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.wake:
	}
	p.m.mu.Lock()
	closing := p.m.closing
	p.m.mu.Unlock()
	p.mu.Lock()
	if p.intent != "" || closing {
		p.mu.Unlock()
		return false
	}
	p.restartCount++
	limit := "unlimited"
	if p.spec.MaxRestarts >= 0 {
		limit = strconv.Itoa(p.spec.MaxRestarts)
	}
	notice := fmt.Sprintf("Attempting restart %d/%s\n", p.restartCount, limit)
	p.mu.Unlock()
	_, _ = p.log.Append(Stdout, []byte(notice))
	if err := p.spawn(); err != nil {
		_, _ = p.log.Append(Stderr, []byte(fmt.Sprintf("restart failed: %v\n", err)))
		return false
	}
	return true
}

// finish records the end and wakes everyone waiting for it.
func (p *Process) finish(code int) {
	p.mu.Lock()
	switch {
	case p.intent != "":
		p.status, p.exitCode = p.intent, -1
	case code == 0:
		p.status, p.exitCode = StatusCompleted, 0
	default:
		p.status, p.exitCode = StatusFailed, code
	}
	p.completedAt = time.Now()
	if p.lifetime != nil {
		p.lifetime.Stop()
	}
	p.mu.Unlock()
	p.ended.Store(true)
	p.log.Finish()
	close(p.done)
	p.m.pruneEnded()
}

// exitCode is the exit status, or -1 when a signal ended the process.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1
	}
	return st.ExitCode()
}

// expire ends a keepAlive process whose lifetime elapsed.
func (p *Process) expire(after time.Duration) {
	if p.ended.Load() {
		return
	}
	_, _ = p.log.Append(Stderr, []byte(fmt.Sprintf("[sandbox-api: keepAlive timeout of %s elapsed, killing the process]\n", after)))
	p.requestStop(StatusKilled, sigKILL)
}

// requestStop records why the process is being ended and signals its group.
// A kill overrides an earlier stop; a stop never overrides a kill. It
// returns the intent recorded before.
func (p *Process) requestStop(intent Status, sig syscall.Signal) (previous Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	previous = p.intent
	if p.ended.Load() {
		return previous
	}
	if p.intent == "" || intent == StatusKilled {
		p.intent = intent
	}
	p.signalLocked(sig)
	select { // interrupt a pending restart
	case p.wake <- struct{}{}:
	default:
	}
	return previous
}

// signalLocked signals the process group, only while its leader has not
// been waited for, so the group id cannot have been reused.
func (p *Process) signalLocked(sig syscall.Signal) {
	if p.alive {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Stop sends SIGTERM to the process group, SIGKILL after the manager's stop
// grace, and returns once the process has ended (or ctx is done).
func (p *Process) Stop(ctx context.Context) error {
	p.requestStop(StatusStopped, sigTERM)
	if p.waitFor(ctx, p.m.cfg.StopGrace) == nil {
		return nil
	}
	p.mu.Lock()
	p.signalLocked(sigKILL)
	p.mu.Unlock()
	return p.waitFor(ctx, 0)
}

// Kill sends sig (SIGKILL when zero) to the process group and waits, up to
// the stop grace, for the process to end. A process that outlives a signal
// it handles is not recorded as killed: if it ends later on its own, its
// status says how.
func (p *Process) Kill(ctx context.Context, sig syscall.Signal) error {
	if sig == 0 {
		sig = sigKILL
	}
	previous := p.requestStop(StatusKilled, sig)
	err := p.waitFor(ctx, p.m.cfg.StopGrace)
	if errors.Is(err, ErrWaitTimeout) && sig != sigKILL {
		p.mu.Lock()
		if !p.ended.Load() && p.intent == StatusKilled {
			p.intent = previous
		}
		p.mu.Unlock()
	}
	return err
}

// Wait blocks until the process ends. With timeout > 0 it gives up with
// ErrWaitTimeout after that long; the process keeps running.
func (p *Process) Wait(ctx context.Context, timeout time.Duration) error {
	return p.waitFor(ctx, timeout)
}

func (p *Process) waitFor(ctx context.Context, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-p.done:
		return nil
	case <-expired:
		return TimeoutError(timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TimeoutError is the error of a wait for a process that gave up after d:
// it matches ErrWaitTimeout. Streams that give up use it too, so that every
// front door says it the same way.
func TimeoutError(d time.Duration) error {
	return fmt.Errorf("%w after %s", ErrWaitTimeout, durationText(d))
}

// durationText words a timeout in whole seconds as requests give them
// ("process timed out after 1 seconds", as the existing Blaxel daemon says
// it), any other duration in Go's notation.
func durationText(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
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
	if !p.alive || p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
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
