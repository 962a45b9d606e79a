package terminal

import (
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
	cmd            *exec.Cmd
	tty            *os.File      // the PTY master
	inputTurn      chan struct{} // a token: whoever holds it writes input (see Write)
	tuning         sessionTuning
	idle           time.Duration
	queue          int
	onEnd          func(*Session)
	done           chan struct{}

	mu         sync.Mutex
	cols, rows uint16
	scroll     *ring
	clients    map[*Client]struct{}
	detachedAt time.Time // when the last client left: eviction picks the longest detached
	idleTimer  *time.Timer
	ended      bool
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
	now := time.Now()
	s := &Session{
		id: opts.ID, shell: opts.Shell, dir: opts.WorkingDir, pid: cmd.Process.Pid, created: now,
		cmd: cmd, tty: tty, tuning: tuning, idle: cfg.IdleTimeout, queue: cfg.ClientQueue, onEnd: onEnd,
		inputTurn: make(chan struct{}, 1), done: make(chan struct{}), cols: opts.Cols, rows: opts.Rows,
		scroll: newRing(cfg.ScrollbackBytes), clients: map[*Client]struct{}{}, detachedAt: now,
	}
	s.inputTurn <- struct{}{}
	readDone := make(chan struct{})
	go s.pump(readDone)
	go s.wait(readDone)
	return s, nil
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
	c := &Client{s: s, out: make(chan []byte, s.queue+1)}
	if back := s.scroll.Bytes(); len(back) > 0 {
		c.out <- back // the extra slot: never blocks
	}
	s.clients[c] = struct{}{}
	if s.idleTimer != nil {
		s.idleTimer.Stop()
		s.idleTimer = nil
	}
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
	}
	if len(s.clients) == 0 && !s.ended && s.idle > 0 {
		s.idleTimer = time.AfterFunc(s.idle, func() {
			s.mu.Lock()
			stillIdle := len(s.clients) == 0
			s.mu.Unlock()
			if stillIdle {
				go s.Close()
			}
		})
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

// wait ends the session when the shell exits.
func (s *Session) wait(readDone <-chan struct{}) {
	// No thread held while the shell runs. The daemon's reaper of orphans
	// does not know terminal shells and may reap one first: both calls then
	// return at once, and nothing is lost, since a session reports no exit
	// status.
	exitwait.Await(s.pid)
	_ = s.cmd.Wait()
	// Output still in the PTY is read first, unless a background child
	// keeps the terminal open (see fdholders.AwaitDrained).
	fdholders.AwaitDrained(readDone, exitGrace, s.tuning.lateOutput, func() []fdholders.ID { return slaveOf(s.tty) })
	_ = s.tty.Close()
	// Forgotten first, so that whoever sees the end no longer finds it.
	s.onEnd(s)
	s.mu.Lock()
	s.ended = true
	if s.idleTimer != nil {
		s.idleTimer.Stop()
	}
	for c := range s.clients {
		delete(s.clients, c)
		c.close()
	}
	s.mu.Unlock()
	close(s.done)
}
