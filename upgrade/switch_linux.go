package upgrade

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// switchTo replaces the running daemon with the staged binary at path, in
// place: same pid, so the processes it started stay its children. The
// earlier binary is copied aside first (the roll-back's); then the front
// door pauses, each service freezes in turn, and the state goes to the
// new image with the exec, the point of no return: the new image resumes
// the services and only then serves (Inherit), or executes the earlier
// binary again with the same state (Inherited.Rollback).
//
// It returns only on failure: everything frozen is thawed in reverse
// order and the front door serves again, as if nothing happened.
func (u *Upgrader) switchTo(path string, status Status) error {
	u.mu.Lock()
	d, count := *u.daemon, u.count
	u.mu.Unlock()
	previous, err := keepRunning(u.cfg.Dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSwitch, err)
	}
	c := carried{
		st: state{Format: handover.FormatVersion, Daemon: daemonState{
			Token: d.Token, User: d.User, StartedAt: d.StartedAt, OwnPath: u.cfg.OwnPath,
			UpgradeCount: count, Upgrade: status, Dir: u.cfg.Dir, Previous: previous,
			Candidate: path, Earlier: runningIn(u.cfg.Dir),
		}},
		listener: d.Listener,
		lock:     d.Lock,
	}
	d.Front.Pause()
	var frozen []NamedPart
	undo := func() {
		for i := len(frozen) - 1; i >= 0; i-- {
			if err := frozen[i].Part.Thaw(); err != nil {
				u.cfg.Logger.Error("a service did not thaw after an abandoned switch", zap.String("service", frozen[i].Name), zap.Error(err))
			}
		}
		d.Front.Resume()
		_ = os.Remove(previous)
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.cfg.FreezeWait)
	defer cancel()
	for _, p := range d.Parts {
		f, err := p.Part.Freeze(ctx)
		if err != nil {
			undo()
			return fmt.Errorf("%w: freeze %s: %v", ErrSwitch, p.Name, err)
		}
		frozen = append(frozen, p)
		c.parts = append(c.parts, frozenPart{name: p.Name, f: f})
	}
	select {
	case <-d.Stopping:
		undo()
		return fmt.Errorf("%w: the daemon was asked to stop", ErrSwitch)
	default:
	}
	err = execImage(path, d.Args, c, d.BeforeExec)
	undo()
	return err
}
