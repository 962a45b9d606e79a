package terminal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/exitwait"
	"github.com/sandbox-api/sandbox-api/internal/fdholders"
)

// Info describes a session.
type Info struct {
	ID         string    `json:"id"`
	Shell      string    `json:"shell"`
	WorkingDir string    `json:"workingDir"`
	PID        int       `json:"pid"`
	Cols       uint16    `json:"cols"`
	Rows       uint16    `json:"rows"`
	Clients    int       `json:"clients"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Session is a shell on a PTY and the clients attached to it.
type Session struct {
	id, shell, dir string
	pid            int
	created        time.Time
	// exit is the shell's pidfd: waits that stop without reaping, and the
	// shell handed to the next image of the daemon (handover.go). Nil where
	// pidfds are missing: the session then cannot be handed over.
	exit *exitwait.Handle
	// reap takes the shell's exit status once it has exited: cmd.Wait for
	// a shell this image started, exit.Reap for one of an earlier image.
	reap      func()
	tty       *os.File      // the PTY master
	inputTurn chan struct{} // a token: whoever holds it writes input (see Write)
	tuning    sessionTuning
	idle      time.Duration
	queue     int
	onEnd     func(*Session)
	done      chan struct{}
	run       sessionRun // the pump and the waiter now running (handover.go stops them)

	mu         sync.Mutex
	cols, rows uint16
	scroll     *ring
	clients    map[*Client]struct{}
	detachedAt time.Time // when the last client left: eviction picks the longest detached
	idleTimer  *time.Timer
	idleEnd    time.Time // when idleTimer fires
	ended      bool
	frozen     frozenIdle // the idle timer's state at Freeze, for Thaw
}

// startSession starts a shell on a new PTY; opts are resolved.
func startSession(opts Options, cfg Config, onEnd func(*Session), tuning sessionTuning) (*Session, error) {
	// -l: a login shell reads the profile users expect in a terminal; with a
	// TTY on stdin it is interactive too.
	cmd := exec.Command(opts.Shell, "-l")
	cmd.Dir = opts.WorkingDir
	cmd.Env = shellEnv()
	asUser(cmd, cfg.User)
	tty, err := startOnPTY(cmd, opts.Cols, opts.Rows)
	if err != nil {
		return nil, fmt.Errorf("start %s on a pty: %w", filepath.Base(opts.Shell), err)
	}
	giveTerminal(tty, cfg.User)
	if cfg.ShellStarted != nil {
		cfg.ShellStarted()
	}
	now := time.Now()
	s := newSession(opts, cmd.Process.Pid, now, tty, cfg, onEnd, tuning)
	s.detachedAt = now
	// The shell has not been reaped yet: its pid is still its own.
	if h, err := exitwait.Open(s.pid); err == nil {
		s.exit = h
	}
	s.reap = func() { _ = cmd.Wait() }
	s.start()
	return s, nil
}

// newSession is a session of the shell pid on the PTY master tty, its
// goroutines not started yet; opts are resolved.
func newSession(opts Options, pid int, created time.Time, tty *os.File, cfg Config, onEnd func(*Session), tuning sessionTuning) *Session {
	s := &Session{
		id: opts.ID, shell: opts.Shell, dir: opts.WorkingDir, pid: pid, created: created,
		tty: tty, tuning: tuning, idle: cfg.IdleTimeout, queue: cfg.ClientQueue, onEnd: onEnd,
		inputTurn: make(chan struct{}, 1), done: make(chan struct{}), cols: opts.Cols, rows: opts.Rows,
		scroll: newRing(cfg.ScrollbackBytes), clients: map[*Client]struct{}{},
	}
	s.inputTurn <- struct{}{}
	return s
}

// sessionRun is one run of a session's pump and waiter: the first from
// its start, another after a Thaw or in the next image.
type sessionRun struct {
	halt               context.CancelFunc
	readDone, waitDone chan struct{}
}

// start runs the session's pump and waiter.
func (s *Session) start() {
	ctx, halt := context.WithCancel(context.Background())
	s.run = sessionRun{halt: halt, readDone: make(chan struct{}), waitDone: make(chan struct{})}
	go s.pump(s.run.readDone)
	go s.wait(ctx, s.run.readDone, s.run.waitDone)
}

// ID is the session's id.
func (s *Session) ID() string { return s.id }

// Done is closed once the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Info describes the session.
func (s *Session) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{ID: s.id, Shell: s.shell, WorkingDir: s.dir, PID: s.pid,
		Cols: s.cols, Rows: s.rows, Clients: len(s.clients), CreatedAt: s.created}
}

// Resize changes the terminal's size; the shell gets SIGWINCH.
func (s *Session) Resize(cols, rows uint16) error {
	if cols == 0 || rows == 0 {
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, cols, rows)
	}
	if err := setSize(s.tty, cols, rows); err != nil {
		return fmt.Errorf("resize terminal %s: %w", s.id, err)
	}
	s.mu.Lock()
	s.cols, s.rows = cols, rows
	s.mu.Unlock()
	return nil
}

// Close hangs up the shell; the session ends when it has exited.
func (s *Session) Close() {
	select {
	case <-s.done:
		return // the pid may already belong to someone else
	default:
	}
	hangUp(s.pid)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
		// A shell that ignores SIGHUP is killed with its whole group.
		killGroup(s.pid)
		<-s.done
	}
}

func (s *Session) attach() (*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, errors.New("session has ended")
	}
	c := &Client{s: s, out: make(chan []byte, s.queue+1), detached: make(chan struct{})}
	if back := s.scroll.Bytes(); len(back) > 0 {
		c.out <- back // the extra slot: never blocks
	}
	s.clients[c] = struct{}{}
	s.stopIdleLocked()
	return c, nil
}

// detachedSince tells since when no client has been attached; ok is false
// while one is, or once the session has ended.
func (s *Session) detachedSince() (at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detachedAt, len(s.clients) == 0 && !s.ended
}

func (s *Session) detach(c *Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(c)
}

// removeLocked closes c and arms the idle timer when nobody is left.
func (s *Session) removeLocked(c *Client) {
	if _, ok := s.clients[c]; !ok {
		return
	}
	delete(s.clients, c)
	c.close()
	if len(s.clients) == 0 {
		s.detachedAt = time.Now()
		s.armIdleLocked(s.idle)
	}
}

// armIdleLocked ends the session after d with no client attached (a
// negative idle timeout: never). s.mu is held.
func (s *Session) armIdleLocked(d time.Duration) {
	if s.ended || s.idle <= 0 {
		return
	}
	s.idleEnd = time.Now().Add(d)
	s.idleTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		stillIdle := len(s.clients) == 0
		s.mu.Unlock()
		if stillIdle {
			go s.Close()
		}
	})
}

// stopIdleLocked stops the idle timer, if armed. s.mu is held.
func (s *Session) stopIdleLocked() {
	if s.idleTimer != nil {
		s.idleTimer.Stop()
		s.idleTimer = nil
	}
}

// pump copies the shell's output to the scrollback and to every client.
func (s *Session) pump(readDone chan<- struct{}) {
	defer close(readDone)
	buf := make([]byte, 32<<10)
	for {
		n, err := s.tty.Read(buf)
		if n > 0 && s.tuning.beforeOutput != nil {
			s.tuning.beforeOutput()
		}
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			s.mu.Lock()
			s.scroll.Write(chunk)
			for c := range s.clients {
				if !c.offer(chunk) {
					// A lagging client must not hold back the shell or the
					// others: it is cut off and may reattach for the replay.
					c.dropped = true
					s.removeLocked(c)
				}
			}
			s.mu.Unlock()
		}
		if err != nil {
			return // EIO once the shell and its children have let go
		}
	}
}

// exitGrace and defaultLateOutputLimit bound the wait for output after the
// shell exits: see wait.
const (
	exitGrace              = 200 * time.Millisecond
	defaultLateOutputLimit = 5 * time.Second
)

// sessionTuning holds what tests change of a session: a hook that holds
// the pump back, as a loaded machine may, and the wait for late output.
type sessionTuning struct {
	beforeOutput func()
	lateOutput   time.Duration
}

// wait ends the session when the shell exits, unless ctx ends first (the
// run is halted: handover.go), and then reaps nothing: the next run, in
// this image or the next, waits again.
func (s *Session) wait(ctx context.Context, readDone <-chan struct{}, waitDone chan<- struct{}) {
	defer close(waitDone)
	// No thread held while the shell runs. The daemon's reaper of orphans
	// does not know terminal shells and may reap one first: the waits then
	// return at once, and nothing is lost, since a session reports no exit
	// status.
	if s.exit != nil {
		_ = s.exit.Wait(ctx) // an error other than ctx's: reap blocks instead
		if ctx.Err() != nil {
			return
		}
	} else {
		exitwait.Await(s.pid)
	}
	s.reap()
	if s.exit != nil {
		_ = s.exit.Close()
	}
	// Output still in the PTY is read first, unless a background child
	// keeps the terminal open (see fdholders.AwaitDrained).
	fdholders.AwaitDrained(readDone, exitGrace, s.tuning.lateOutput, func() []fdholders.ID { return slaveOf(s.tty) })
	_ = s.tty.Close()
	// Forgotten first, so that whoever sees the end no longer finds it.
	s.onEnd(s)
	s.mu.Lock()
	s.ended = true
	s.stopIdleLocked()
	for c := range s.clients {
		delete(s.clients, c)
		c.close()
	}
	s.mu.Unlock()
	close(s.done)
}
