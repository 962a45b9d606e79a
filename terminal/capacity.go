package terminal

import (
	"errors"
	"time"

	"go.uber.org/zap"
)

// DefaultMaxSessions bounds the terminal sessions alive at once. Each holds
// a shell (one pid of the container's pids limit, a few MiB), a PTY (the
// kernel's default pool is 4096 for the whole machine) and up to
// DefaultScrollback of replay. 64 is far more terminals than people or
// agents keep open at once, and small enough that a client opening sessions
// in a loop leaves pids, PTYs and memory to the workload; detached sessions
// past it are evicted, so the bound only refuses when 64 are in use.
const DefaultMaxSessions = 64

// ErrTooManySessions refuses a new session while MaxSessions sessions all
// have a client attached.
var ErrTooManySessions = errors.New("too many terminal sessions")

// longestDetachedLocked returns the session with no client attached that
// has been detached the longest, or nil. m.mu is held.
func (m *Manager) longestDetachedLocked() *Session {
	var victim *Session
	var since time.Time
	for _, s := range m.sessions {
		if at, ok := s.detachedSince(); ok && (victim == nil || at.Before(since)) {
			victim, since = s, at
		}
	}
	return victim
}

// evictLocked ends a detached session to make room for a new one. It is
// taken out of the table at once, so that nobody reattaches to it, but
// counts against the bound until its shell has ended: the shells alive never
// exceed MaxSessions. m.mu is held on entry and on return, and released
// while the shell ends.
func (m *Manager) evictLocked(s *Session) {
	delete(m.sessions, s.id)
	m.evicting++
	m.mu.Unlock()
	m.cfg.Logger.Info("terminal session evicted to make room for a new one", zap.String("id", s.id), zap.Int("max_sessions", m.cfg.MaxSessions))
	s.Close()
	m.mu.Lock()
	m.evicting--
}
