package terminal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/creack/pty"
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
	tty            *os.File // the PTY master
	tuning         sessionTuning
	idle           time.Duration
	queue          int
	onEnd          func(*Session)
	done           chan struct{}

	mu         sync.Mutex
	cols, rows uint16
	scroll     *ring
	clients    map[*Client]struct{}
	idleTimer  *time.Timer
	ended      bool
}

func startSession(opts Options, cfg Config, onEnd func(*Session), tuning sessionTuning) (*Session, error) {
	shell := opts.Shell
	if shell == "" {
		shell = defaultShell()
	} else if p, err := exec.LookPath(shell); err == nil {
		shell = p
	} else {
		return nil, fmt.Errorf("%w: shell %q: %v", ErrInvalid, opts.Shell, err)
	}
	dir := opts.WorkingDir
	if dir != "" {
		leave := cfg.User.Enter() // looked up as the user: what it cannot see is not there
		st, err := os.Stat(dir)
		leave()
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%w: working directory %q is not a directory", ErrInvalid, dir)
		}
	} else if wd, err := os.Getwd(); err == nil {
		dir = wd
	}
	cols, rows := opts.Cols, opts.Rows
	if cols == 0 {
		cols = 80
	}
	if rows == 0 {
		rows = 24
	}
	// -l: a login shell reads the profile users expect in a terminal; with a
	// TTY on stdin it is interactive too.
	cmd := exec.Command(shell, "-l")
	cmd.Dir = dir
	cmd.Env = shellEnv()
	asUser(cmd, cfg.User)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		return nil, fmt.Errorf("start %s on a pty: %w", filepath.Base(shell), err)
	}
	giveTerminal(tty, cfg.User)
	s := &Session{
		id: opts.ID, shell: shell, dir: dir, pid: cmd.Process.Pid, created: time.Now(),
		cmd: cmd, tty: tty, tuning: tuning, idle: cfg.IdleTimeout, queue: cfg.ClientQueue, onEnd: onEnd,
		done: make(chan struct{}), cols: cols, rows: rows,
		scroll: newRing(cfg.ScrollbackBytes), clients: map[*Client]struct{}{},
	}
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

// Write sends keyboard input to the shell.
func (s *Session) Write(p []byte) error {
	if _, err := s.tty.Write(p); err != nil {
		return fmt.Errorf("write to terminal %s: %w", s.id, err)
	}
	return nil
}

// Resize changes the terminal's size; the shell gets SIGWINCH.
func (s *Session) Resize(cols, rows uint16) error {
	if cols == 0 || rows == 0 {
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, cols, rows)
	}
	if err := pty.Setsize(s.tty, &pty.Winsize{Cols: cols, Rows: rows}); err != nil {
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
