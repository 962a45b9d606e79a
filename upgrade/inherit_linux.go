package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Inherited is what an image started by a switch got from the earlier
// one: the envelope and the descriptors it names, adopted (close-on-exec
// again, so the daemon's children never inherit them). main resumes each
// service from its Part, then serves and calls Commit; if a service cannot
// be resumed, Rollback gives everything back to the earlier binary.
type Inherited struct {
	st      state
	files   map[int]*os.File
	resumed []NamedPart // resumed here: a roll-back freezes them again
}

// ErrInherit: the state handed over cannot be read at all. There is
// nothing to roll back with: the daemon cannot go on.
var ErrInherit = errors.New("cannot read the state handed over by the earlier image")

// Inherit reads the state the earlier image handed over, when this image
// was started by a switch (handover.EnvFD is set): nil, nil otherwise. The
// variable is removed from the environment, the memory file read and
// closed, before anything starts.
func Inherit() (*Inherited, error) {
	v, ok := os.LookupEnv(handover.EnvFD)
	if !ok {
		return nil, nil
	}
	_ = os.Unsetenv(handover.EnvFD) // processes must not inherit it
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%w: $%s=%q is not a descriptor number above 2", ErrInherit, handover.EnvFD, v)
	}
	data, err := handover.ReadFD(fd, maxStateBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInherit, err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInherit, err)
	}
	if st.Format != handover.FormatVersion {
		return nil, fmt.Errorf("%w: format %d, this binary reads %d", ErrInherit, st.Format, handover.FormatVersion)
	}
	in := &Inherited{st: st, files: map[int]*os.File{}}
	fds := []int{st.Daemon.Listener}
	if st.Daemon.Lock >= 0 {
		fds = append(fds, st.Daemon.Lock)
	}
	for _, p := range st.Parts {
		fds = append(fds, p.FDs...)
	}
	for _, fd := range fds {
		if _, dup := in.files[fd]; dup || fd < 3 {
			return nil, fmt.Errorf("%w: descriptor %d named twice, or a standard one", ErrInherit, fd)
		}
		f := os.NewFile(uintptr(fd), "inherited-"+strconv.Itoa(fd))
		if f == nil {
			return nil, fmt.Errorf("%w: descriptor %d", ErrInherit, fd)
		}
		if err := handover.CloseOnExec(f); err != nil {
			return nil, fmt.Errorf("%w: descriptor %d: %v", ErrInherit, fd, err)
		}
		in.files[fd] = f
	}
	return in, nil
}

// Token is the daemon's bearer token ("" for none).
func (in *Inherited) Token() string { return in.st.Daemon.Token }

// User is the workload's user as the first image resolved it (nil: the
// daemon's own).
func (in *Inherited) User() *runas.User { return in.st.Daemon.User }

// StartedAt is when the first image started.
func (in *Inherited) StartedAt() time.Time { return in.st.Daemon.StartedAt }

// OwnPath is the first image's binary, which SIGUSR2 switches to.
func (in *Inherited) OwnPath() string { return in.st.Daemon.OwnPath }

// Listener is the listening socket, as a listener of its own (a
// duplicate: the inherited descriptor stays for a roll-back, until
// Commit).
func (in *Inherited) Listener() (net.Listener, error) {
	ln, err := net.FileListener(in.files[in.st.Daemon.Listener])
	if err != nil {
		return nil, fmt.Errorf("the inherited listening socket: %w", err)
	}
	return ln, nil
}

// Lock is the log folder's lock the earlier image held, which this one
// adopts (nil: none was handed over). It stays the caller's to hold.
func (in *Inherited) Lock() *os.File {
	if in.st.Daemon.Lock < 0 {
		return nil
	}
	return in.files[in.st.Daemon.Lock]
}

// Part is the state the service name handed over, its Files the inherited
// descriptors in order; false when the earlier image had no such service.
func (in *Inherited) Part(name string) (handover.Frozen, bool) {
	for _, p := range in.st.Parts {
		if p.Name == name {
			f := handover.Frozen{State: p.State}
			for _, fd := range p.FDs {
				f.Files = append(f.Files, in.files[fd])
			}
			return f, true
		}
	}
	return handover.Frozen{}, false
}

// Parts are the names of the services that handed state over: each must be
// resumed, or the switch rolled back (what a service this binary does not
// know held would be lost).
func (in *Inherited) Parts() []string {
	names := make([]string, len(in.st.Parts))
	for i, p := range in.st.Parts {
		names[i] = p.Name
	}
	return names
}

// Resumed records that the service name was resumed from its Part: a
// roll-back freezes it again, for the state it has now.
func (in *Inherited) Resumed(name string, p Part) {
	in.resumed = append(in.resumed, NamedPart{Name: name, Part: p})
}

// History is what /health reports of the upgrades: the switch that started
// this image completed, unless this image is the earlier binary back after
// a roll-back, which failed.
func (in *Inherited) History() History {
	d := in.st.Daemon
	h := History{Count: d.UpgradeCount, Last: d.Upgrade}
	if !d.RolledBack {
		h.Count++
		h.Last.State, h.Last.Step, h.Last.Error = StateCompleted, StepCompleted, ""
	}
	return h
}

// Commit ends the switch once this image serves: the inherited listening
// descriptor is closed (the listener has its own), and the binaries of the
// switch but the running one are removed from the upgrade folder.
func (in *Inherited) Commit() {
	if f := in.files[in.st.Daemon.Listener]; f != nil {
		_ = f.Close()
	}
	d := in.st.Daemon
	removeStaged(d.Previous, d.Candidate, d.Earlier)
}

// Rollback executes the earlier binary again with the state, because this
// image could not resume it (cause). Services already resumed here are
// frozen again first, so that nothing they did meanwhile (output read, a
// child reaped) is lost. The earlier binary's /health then says the
// upgrade failed at the replace step, and why. It returns only when the
// roll-back is impossible: this image is the earlier binary back already
// (it could not resume its own state), or the exec failed.
func (in *Inherited) Rollback(cause error, beforeExec func()) error {
	d := in.st.Daemon
	if d.RolledBack || d.Previous == "" {
		return fmt.Errorf("the earlier binary cannot resume its own state either: %w", cause)
	}
	st := in.st
	st.Daemon.RolledBack = true
	st.Daemon.Upgrade.State, st.Daemon.Upgrade.Step = StateFailed, StepReplace
	st.Daemon.Upgrade.Error = fmt.Sprintf("%v: %v", ErrRolledBack, cause)
	refrozen := map[string]handover.Frozen{}
	for i := len(in.resumed) - 1; i >= 0; i-- {
		p := in.resumed[i]
		f, err := p.Part.Freeze(context.Background())
		if err != nil {
			return fmt.Errorf("roll back: freeze %s again: %w (after %v)", p.Name, err, cause)
		}
		refrozen[p.Name] = f
	}
	c := carried{st: st, listener: in.files[d.Listener], lock: in.Lock()}
	for _, p := range st.Parts {
		f, ok := refrozen[p.Name]
		if !ok {
			f, _ = in.Part(p.Name)
		}
		c.parts = append(c.parts, frozenPart{name: p.Name, f: f})
	}
	err := execImage(d.Previous, os.Args[1:], c, beforeExec)
	return fmt.Errorf("roll back to %s: %w (after %v)", d.Previous, err, cause)
}
