package terminal

// Terminal sessions across the daemon's in-place re-exec (POST /upgrade,
// SIGUSR2). The shells are the daemon's children and stay so across the
// exec (same PID); what the next image needs to go on with them is each
// shell's PTY master and pidfd, kept open across the exec, and what only
// this image knows: the replay ring, the idle state, the options. What a
// shell writes between Freeze and Resume waits in its PTY (the kernel keeps
// some KiB, then the shell's write blocks): it is delayed, never lost. A
// shell that exits meanwhile is seen through its pidfd and reaped by the
// next image, whoever else reaped it first.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/exitwait"
	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// stateVersion numbers the format of the state Freeze writes. Resume
// refuses any other: a new format gets a new number, and a build that
// changes it reads the formats still in use by the builds it replaces.
const stateVersion = 1

// ErrFrozen refuses what would start, end or attach to a session while the
// sessions are being handed over to the daemon's next image: a short window
// (the switch), after which the same request succeeds.
var ErrFrozen = errors.New("terminal sessions are being handed over to the daemon's next image; retry")

// frozenState is what Freeze writes for the next image.
type frozenState struct {
	Version  int             `json:"version"`
	Sessions []frozenSession `json:"sessions"`
}

// frozenSession is one session. The user a shell runs as is not in it: it
// is the daemon's --user, which the next image has from its flags.
type frozenSession struct {
	ID         string    `json:"id"`
	Shell      string    `json:"shell"`
	WorkingDir string    `json:"workingDir"`
	PID        int       `json:"pid"`
	CreatedAt  time.Time `json:"createdAt"`
	Cols       uint16    `json:"cols"`
	Rows       uint16    `json:"rows"`
	Scrollback []byte    `json:"scrollback"`
	// DetachedAt orders the evictions of detached sessions, as before.
	DetachedAt time.Time `json:"detachedAt"`
	// IdleLeft is what was left of the idle time of a session kept
	// detached (the switch itself does not count as idle time); null when
	// none was running (clients were attached until Freeze ended them, or
	// the idle timeout was off): the next image's starts in full.
	IdleLeft *time.Duration `json:"idleLeft"`
	// TTY and PIDFD are the indexes in Frozen.Files of the PTY master and
	// of the shell's pidfd.
	TTY   int `json:"tty"`
	PIDFD int `json:"pidfd"`
}

// frozenIdle is a session's idle timer when it froze, for Thaw: nil when
// none ran, else what was left of it.
type frozenIdle *time.Duration

// Freeze stops the sessions' goroutines without closing what the next
// image resumes (the PTY masters, the shells), ends every attached client
// (HandedOver then tells why; the client reconnects and gets its replay),
// and returns the state and descriptors Resume takes. ctx bounds only the
// wait for the ended clients' connections to close (their owners call
// Detach): past it they are cut by the exec. Until Thaw, Attach and
// CloseSession fail with ErrFrozen.
//
// The Files stay the sessions' own: the caller must not close them, and
// must clear their close-on-exec flag through SyscallConn, never Fd (which
// makes a file blocking for good, and Thaw could not go on with it).
func (m *Manager) Freeze(ctx context.Context) (handover.Frozen, error) {
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return handover.Frozen{}, errors.New("freeze terminal sessions: manager closed")
	case m.frozen:
		m.mu.Unlock()
		return handover.Frozen{}, errors.New("freeze terminal sessions: already frozen")
	}
	all := m.sessionsLocked()
	for _, s := range all {
		if s.exit == nil {
			m.mu.Unlock()
			return handover.Frozen{}, fmt.Errorf("freeze terminal session %s: no pidfd of its shell to hand over (pidfds need Linux 5.3)", s.id)
		}
	}
	m.frozen = true
	m.mu.Unlock()

	var cut []*Client
	for _, s := range all {
		cut = append(cut, s.freeze()...)
	}
	awaitDetached(ctx, cut)
	m.mu.Lock()
	handed := m.sessionsLocked() // those whose shell ended meanwhile are gone
	m.handed = handed
	m.mu.Unlock()
	f, err := encodeFrozen(handed)
	if err != nil {
		return handover.Frozen{}, errors.Join(err, m.Thaw())
	}
	return f, nil
}

// Thaw goes on in this image after a Freeze whose switch was abandoned
// before the exec, as if nothing had happened: the sessions' goroutines run
// again, from where they stopped, and their clients may reattach.
func (m *Manager) Thaw() error {
	m.mu.Lock()
	if !m.frozen {
		m.mu.Unlock()
		return errors.New("thaw terminal sessions: not frozen")
	}
	handed := m.handed
	m.handed = nil
	m.mu.Unlock()
	var errs []error
	for _, s := range handed {
		// The switch may have got as far as clearing close-on-exec: the
		// daemon's next children must not inherit a PTY master.
		for _, f := range []*os.File{s.tty, s.exit.File()} {
			if err := closeOnExec(f); err != nil {
				errs = append(errs, fmt.Errorf("thaw terminal session %s: %w", s.id, err))
			}
		}
		s.thaw()
	}
	m.mu.Lock()
	m.frozen = false
	m.mu.Unlock()
	return errors.Join(errs...)
}

// Resume rebuilds, in the next image of the daemon (same PID: the shells
// are still its children), the sessions an earlier image froze. f.Files
// are the descriptors Freeze returned, in the same order. On success the
// Manager owns them (it keeps close-on-exec copies and closes them); on
// failure they are left as they were, for whoever goes on without this
// image.
func Resume(cfg Config, f handover.Frozen) (*Manager, error) {
	var st frozenState
	if err := f.ReadState(&st, stateVersion); err != nil {
		return nil, fmt.Errorf("resume terminal sessions: %w", err)
	}
	type adopted struct {
		tty  *os.File
		exit *exitwait.Handle
	}
	taken := make([]adopted, 0, len(st.Sessions))
	undo := func() {
		for _, a := range taken {
			_ = a.tty.Close()
			_ = a.exit.Close()
		}
	}
	for _, fs := range st.Sessions {
		tty, exit, err := adopt(fs, f.Files)
		if err != nil {
			undo()
			return nil, fmt.Errorf("resume terminal session %s: %w", fs.ID, err)
		}
		taken = append(taken, adopted{tty, exit})
	}
	// Nothing fails past this point: the inherited descriptors have their
	// close-on-exec copies.
	for _, file := range f.Files {
		_ = file.Close()
	}
	m := NewManager(cfg)
	for i, fs := range st.Sessions {
		s := m.resumeSession(fs, taken[i].tty, taken[i].exit)
		m.cfg.Logger.Info("terminal session resumed", zap.String("id", s.id), zap.String("shell", s.shell), zap.Int("pid", s.pid))
	}
	return m, nil
}

// adopt takes close-on-exec copies of a session's inherited descriptors.
func adopt(fs frozenSession, files []*os.File) (*os.File, *exitwait.Handle, error) {
	if fs.TTY < 0 || fs.TTY >= len(files) || fs.PIDFD < 0 || fs.PIDFD >= len(files) || fs.PID <= 0 {
		return nil, nil, fmt.Errorf("descriptors %d and %d of %d, pid %d: not in the hand-over", fs.TTY, fs.PIDFD, len(files), fs.PID)
	}
	if !isMaster(files[fs.TTY]) {
		return nil, nil, fmt.Errorf("descriptor %d is no PTY master", fs.TTY)
	}
	tty, err := pollerCopy(files[fs.TTY])
	if err != nil {
		return nil, nil, err
	}
	exit, err := exitwait.Adopt(fs.PID, files[fs.PIDFD])
	if err != nil {
		_ = tty.Close()
		return nil, nil, err
	}
	return tty, exit, nil
}

// resumeSession makes the session fs of an earlier image, on its adopted
// PTY master and pidfd, and starts it.
func (m *Manager) resumeSession(fs frozenSession, tty *os.File, exit *exitwait.Handle) *Session {
	opts := Options{ID: fs.ID, Shell: fs.Shell, WorkingDir: fs.WorkingDir, Cols: fs.Cols, Rows: fs.Rows}
	// The PTY knows its size best: a resize may have come after Freeze.
	if cols, rows, err := getSize(tty); err == nil && cols > 0 && rows > 0 {
		opts.Cols, opts.Rows = cols, rows
	}
	s := newSession(opts, fs.PID, fs.CreatedAt, tty, m.cfg, m.forget, m.tuning)
	s.exit, s.reap = exit, exit.Reap
	s.scroll.Write(fs.Scrollback)
	s.detachedAt = fs.DetachedAt
	s.frozen = fs.IdleLeft
	// Listed before it runs: a shell that exited during the switch ends the
	// session at once, and its end must find it listed to forget it.
	m.mu.Lock()
	m.sessions[s.id] = s
	m.mu.Unlock()
	s.thaw()
	return s
}

// sessionsLocked lists the sessions, oldest first. m.mu is held.
func (m *Manager) sessionsLocked() []*Session {
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].created.Before(all[j].created) })
	return all
}

// encodeFrozen writes the state of the frozen sessions and lists their
// descriptors.
func encodeFrozen(sessions []*Session) (handover.Frozen, error) {
	st := frozenState{Version: stateVersion, Sessions: make([]frozenSession, 0, len(sessions))}
	files := make([]*os.File, 0, 2*len(sessions))
	for _, s := range sessions {
		s.mu.Lock()
		st.Sessions = append(st.Sessions, frozenSession{
			ID: s.id, Shell: s.shell, WorkingDir: s.dir, PID: s.pid, CreatedAt: s.created,
			Cols: s.cols, Rows: s.rows, Scrollback: s.scroll.Bytes(), DetachedAt: s.detachedAt,
			IdleLeft: s.frozen, TTY: len(files), PIDFD: len(files) + 1,
		})
		s.mu.Unlock()
		files = append(files, s.tty, s.exit.File())
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return handover.Frozen{}, fmt.Errorf("freeze terminal sessions: write the state: %w", err)
	}
	return handover.Frozen{State: raw, Files: files}, nil
}

// freeze halts the session's pump and waiter, keeping its PTY and shell,
// and ends its clients, which it returns. What the pump read is in the
// scrollback; the rest waits in the PTY.
func (s *Session) freeze() []*Client {
	s.run.halt()
	_ = s.tty.SetReadDeadline(time.Unix(1, 0)) // wakes the pump's read
	<-s.run.readDone
	<-s.run.waitDone
	_ = s.tty.SetReadDeadline(time.Time{})

	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.frozen = nil
	if s.idleTimer != nil { // armed only while no client is attached
		left := max(0, s.idleEnd.Sub(now))
		s.frozen = &left
	}
	s.stopIdleLocked()
	cut := make([]*Client, 0, len(s.clients))
	for c := range s.clients {
		delete(s.clients, c)
		c.handedOver = true
		c.close()
		cut = append(cut, c)
	}
	if len(cut) > 0 {
		s.detachedAt = now
	}
	return cut
}

// thaw arms the idle timer as it stood at freeze and runs the session
// again; no client is attached.
func (s *Session) thaw() {
	s.mu.Lock()
	if s.frozen == nil {
		s.armIdleLocked(s.idle)
	} else {
		s.armIdleLocked(min(*s.frozen, s.idle))
	}
	s.frozen = nil
	s.mu.Unlock()
	s.start()
}

// awaitDetached waits until every client has been detached by its owner
// (its connection closed), or ctx ends.
func awaitDetached(ctx context.Context, clients []*Client) {
	for _, c := range clients {
		select {
		case <-c.detached:
		case <-ctx.Done():
			return
		}
	}
}
