// Package terminal runs interactive shells on pseudo-terminals, as sessions
// that outlive the connections attached to them.
//
// A session costs a shell process, a PTY, its scrollback and two
// goroutines, but no OS thread: the shell is waited for through its pidfd
// and the PTY is read through the runtime's poller (see startOnPTY), so a
// container's pids limit is spent on shells, not on the daemon's threads.
//
// Sessions are bounded by Config.MaxSessions, and sessions kept detached for
// a reattach count. At the bound, a new session ends the one that has been
// detached the longest rather than being refused: detached sessions pile up
// on their own (every closed browser tab and every client that drops its
// socket leaves one for the idle timeout), and refusing would lock out every
// new terminal until they time out. Evicting takes nothing a client could
// not already take (any client may end any session). Only when every
// session has a client attached is a new one refused with
// ErrTooManySessions, before anything is started for it. Reattaching to a
// live session is never refused.
//
// The files, by job: terminal.go, the Manager that attaches and ends
// sessions; capacity.go, the bound on sessions and its evictions;
// session.go, client.go, ring.go and input.go, a session, its attached
// clients, its scrollback and its input; options.go, the options of a new
// session and the shell it runs; pty_linux.go, pts_linux.go and
// signal_linux.go, the PTY and the shell's process group; user.go and
// user_linux.go, the --user a shell runs as; handover.go and
// handover_linux.go, the sessions handed over to the daemon's next image
// across an in-place re-exec (Freeze, Thaw, Resume).
//
// Linux only, like the whole daemon: PTYs are opened through /dev/ptmx and
// named through /proc, and shells are waited for through pidfds.
package terminal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// DefaultIdleTimeout ends sessions nobody has been attached to for this long.
const DefaultIdleTimeout = 30 * time.Minute

// ErrNotFound is returned for an unknown session id.
var ErrNotFound = errors.New("terminal session not found")

// ErrInvalid marks bad session options (a caller error, not a failure).
var ErrInvalid = errors.New("invalid terminal options")

// Config tunes a Manager.
type Config struct {
	Logger *zap.Logger
	// IdleTimeout ends a session once no client has been attached to it for
	// this long. Zero means DefaultIdleTimeout; negative never ends them.
	IdleTimeout time.Duration
	// ScrollbackBytes bounds the output replayed to a newly attached client.
	// Zero means DefaultScrollback.
	ScrollbackBytes int
	// ClientQueue bounds the output chunks waiting for one client; a client
	// that falls further behind is dropped. Zero means DefaultClientQueue.
	ClientQueue int
	// MaxSessions bounds the sessions alive at once, detached ones included
	// (see the package doc). Zero or less means DefaultMaxSessions.
	MaxSessions int
	// User runs the shells as that user, on terminals it owns (nil: as the
	// daemon).
	User *runas.User
	// ShellStarted, if set, is called once each new shell runs (not for
	// shells taken over from an earlier image): the daemon's reaper of
	// orphans learns of a child it does not manage.
	ShellStarted func()
}

// Manager owns the terminal sessions.
type Manager struct {
	cfg      Config
	mu       sync.Mutex
	sessions map[string]*Session
	// evicting counts the sessions taken out of the table to make room whose
	// shell has not ended yet: they still count against MaxSessions.
	evicting int
	closed   bool
	// frozen: the sessions are being handed over to the next image
	// (handover.go); handed are those Freeze handed over, for Thaw.
	frozen bool
	handed []*Session

	tuning sessionTuning // what tests change of every session's behaviour
}

// NewManager makes a Manager.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ScrollbackBytes <= 0 {
		cfg.ScrollbackBytes = DefaultScrollback
	}
	if cfg.ClientQueue <= 0 {
		cfg.ClientQueue = DefaultClientQueue
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	return &Manager{cfg: cfg, sessions: map[string]*Session{}, tuning: sessionTuning{lateOutput: defaultLateOutputLimit}}
}

// Attach attaches a new client to the session opts.ID, starting that session
// first if it does not exist (an empty ID gets a fresh random one). The
// client's first output is the session's scrollback. A new session past
// MaxSessions ends the one detached the longest, or fails with
// ErrTooManySessions when every session has a client.
func (m *Manager) Attach(opts Options) (*Session, *Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if opts.ID == "" {
		opts.ID = newID()
	}
	resolved := false
	for {
		if m.closed {
			return nil, nil, errors.New("terminal manager closed")
		}
		if m.frozen {
			return nil, nil, ErrFrozen
		}
		if s, ok := m.sessions[opts.ID]; ok {
			if c, err := s.attach(); err == nil {
				return s, c, nil
			}
			// It ended a moment ago: the id gets a fresh shell, as it would
			// once the ended session is forgotten.
			delete(m.sessions, opts.ID)
		}
		if !resolved {
			// Bad options are refused before a session is evicted for them.
			var err error
			if opts, err = resolve(opts, m.cfg.User); err != nil {
				return nil, nil, err
			}
			resolved = true
		}
		if len(m.sessions)+m.evicting < m.cfg.MaxSessions {
			break
		}
		victim := m.longestDetachedLocked()
		if victim == nil {
			return nil, nil, fmt.Errorf("%w: all %d have a client attached", ErrTooManySessions, m.cfg.MaxSessions)
		}
		// m.mu is released meanwhile: everything is looked at again.
		m.evictLocked(victim)
	}
	s, err := startSession(opts, m.cfg, m.forget, m.tuning)
	if err != nil {
		return nil, nil, err
	}
	m.sessions[opts.ID] = s
	m.cfg.Logger.Info("terminal session started", zap.String("id", s.id), zap.String("shell", s.shell), zap.Int("pid", s.pid))
	c, err := s.attach()
	if err != nil {
		return nil, nil, fmt.Errorf("attach to terminal session %s: %w", opts.ID, err)
	}
	return s, c, nil
}

// forget drops an ended session from the table.
func (m *Manager) forget(s *Session) {
	m.mu.Lock()
	if m.sessions[s.id] == s {
		delete(m.sessions, s.id)
	}
	m.mu.Unlock()
	m.cfg.Logger.Info("terminal session ended", zap.String("id", s.id))
}

// Get returns a live session.
func (m *Manager) Get(id string) (*Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	return s, ok
}

// List describes the live sessions, oldest first.
func (m *Manager) List() []Info {
	m.mu.Lock()
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	infos := make([]Info, 0, len(all))
	for _, s := range all {
		infos = append(infos, s.Info())
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].CreatedAt.Before(infos[j].CreatedAt) })
	return infos
}

// CloseSession ends a session: its shell is hung up and its clients closed.
func (m *Manager) CloseSession(id string) error {
	m.mu.Lock()
	s, ok := m.sessions[id]
	frozen := m.frozen
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if frozen {
		// Its shell would be hung up, but its end is seen only once the
		// sessions run again.
		return fmt.Errorf("close terminal session %s: %w", id, ErrFrozen)
	}
	s.Close()
	return nil
}

// Close ends every session and refuses new ones. Frozen sessions are
// thawed first, so that their ends are seen.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.frozen {
		m.mu.Unlock()
		_ = m.Thaw()
		m.mu.Lock()
	}
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	// In parallel: each may wait for a shell that ignores its hangup.
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Go(s.Close)
	}
	wg.Wait()
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return hex.EncodeToString(b[:])
}
