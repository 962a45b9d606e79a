package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// StdinWriteTimeout bounds one write to a process's stdin: a process that
// stopped reading gets ErrStdinBlocked, never a request hung forever.
const StdinWriteTimeout = 5 * time.Second

// stdinPipe is the daemon's end of a process's stdin. Writers take turns so
// each body lands whole and in order.
type stdinPipe struct {
	turn chan struct{} // a token: whoever holds it may write
	mu   sync.Mutex
	w    *os.File
}

func newStdinPipe(w *os.File) *stdinPipe {
	s := &stdinPipe{turn: make(chan struct{}, 1), w: w}
	s.turn <- struct{}{}
	return s
}

func (s *stdinPipe) file() *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w
}

func (s *stdinPipe) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		_ = s.w.Close()
		s.w = nil
	}
}

// WriteStdin writes data to the process's stdin, whole, after the writes
// that came before it. Errors: ErrNoStdin, ErrStdinClosed, ErrStdinBlocked,
// ErrSwitching. What a write put in the pipe stays there across a switch
// to a new binary (the pipe itself is handed on): nothing is held in the
// daemon's memory.
func (p *Process) WriteStdin(ctx context.Context, data []byte) error {
	if !p.spec.Stdin {
		return ErrNoStdin
	}
	p.mu.Lock()
	s := p.stdin
	p.mu.Unlock()
	if s == nil {
		return ErrStdinClosed
	}
	deadline := time.Now().Add(StdinWriteTimeout)
	t := time.NewTimer(StdinWriteTimeout)
	defer t.Stop()
	select {
	case <-s.turn:
		defer func() { s.turn <- struct{}{} }()
	case <-t.C:
		return fmt.Errorf("%w: an earlier write is still blocked", ErrStdinBlocked)
	case <-ctx.Done():
		return ctx.Err()
	}
	// A freeze waits for a write under way and refuses the next ones.
	release, err := p.m.act()
	if err != nil {
		return err
	}
	defer release()
	f := s.file()
	if f == nil {
		return ErrStdinClosed
	}
	if err := f.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("stdin deadline: %w", err)
	}
	n, err := f.Write(data)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: wrote %d of %d bytes in %s", ErrStdinBlocked, n, len(data), StdinWriteTimeout)
	case errors.Is(err, os.ErrClosed), errors.Is(err, syscall.EPIPE):
		return ErrStdinClosed
	default:
		return fmt.Errorf("write stdin: %w", err)
	}
}

// CloseStdin closes the process's stdin so it reads EOF. Closing twice, or
// after the process ended, is not an error.
func (p *Process) CloseStdin() error {
	if !p.spec.Stdin {
		return ErrNoStdin
	}
	release, err := p.m.act()
	if err != nil {
		return err
	}
	defer release()
	p.mu.Lock()
	s := p.stdin
	p.stdin = nil
	p.stdinClosed = true
	p.mu.Unlock()
	if s != nil {
		s.close()
	}
	return nil
}
