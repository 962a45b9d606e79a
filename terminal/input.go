package terminal

import (
	"context"
	"fmt"
	"time"
)

// Write sends keyboard input to the shell. The PTY holds only so much
// input the shell has not read yet (some 64 KiB): past it, the write waits
// for the shell, parked on the runtime poller. Writers take turns, so that
// each input lands whole, and a write gives up once ctx is done, with part
// of p perhaps sent: a client that went away leaves no write behind (with
// its buffer) for as long as the shell is busy.
func (s *Session) Write(ctx context.Context, p []byte) error {
	select {
	case <-s.inputTurn:
		defer func() { s.inputTurn <- struct{}{} }()
	case <-ctx.Done():
		return fmt.Errorf("write to terminal %s: %w", s.id, ctx.Err())
	}
	// The write deadline is this writer's own while it holds the turn: ctx
	// ending moves it to the past, which wakes the parked write.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		_ = s.tty.SetWriteDeadline(time.Unix(1, 0))
	})
	_, err := s.tty.Write(p)
	if !stop() {
		<-woken // so that the reset below comes after it
		if err != nil {
			err = ctx.Err() // the deadline was ctx's
		}
	}
	_ = s.tty.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("write to terminal %s: %w", s.id, err)
	}
	return nil
}
