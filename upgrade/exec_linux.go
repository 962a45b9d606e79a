package upgrade

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// frozenPart is a service's frozen state under its name.
type frozenPart struct {
	name string
	f    handover.Frozen
}

// carried is what goes through an exec: the envelope, and the descriptors
// it names (the listening socket, the log folder's lock, each service's
// files).
type carried struct {
	st       state
	listener syscall.Conn
	lock     *os.File
	parts    []frozenPart
}

// execImage replaces this image of the daemon with binary, same pid,
// handing c over: each descriptor of c is kept open across the exec under
// its number (every other one is close-on-exec, as Go opens them all),
// and the envelope naming them goes in a memory file whose number is in
// handover.EnvFD. args are the next image's arguments, without the
// program name, which stays this image's (os.Args[0]).
//
// It returns only on failure, with the descriptors close-on-exec again.
// beforeExec, when set, runs just before: the last log lines out.
func execImage(binary string, args []string, c carried, beforeExec func()) (err error) {
	st := c.st
	keep := []syscall.Conn{c.listener}
	if st.Daemon.Listener, err = fdOf(c.listener); err != nil {
		return err
	}
	st.Daemon.Lock = -1
	if c.lock != nil {
		if st.Daemon.Lock, err = fdOf(c.lock); err != nil {
			return err
		}
		keep = append(keep, c.lock)
	}
	st.Parts = nil
	for _, p := range c.parts {
		ps := partState{Name: p.name, State: p.f.State, FDs: []int{}}
		for _, f := range p.f.Files {
			fd, err := fdOf(f)
			if err != nil {
				return fmt.Errorf("%w: a descriptor of %s: %v", ErrSwitch, p.name, err)
			}
			ps.FDs = append(ps.FDs, fd)
			keep = append(keep, f)
		}
		st.Parts = append(st.Parts, ps)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%w: encode the state: %v", ErrSwitch, err)
	}
	mem, err := handover.NewMemFile("sandbox-api-handover", data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSwitch, err)
	}
	defer mem.Close() // reached only when the exec failed
	memFD, err := fdOf(mem)
	if err != nil {
		return err
	}
	keep = append(keep, mem)
	env := append(withoutVar(os.Environ(), handover.EnvFD), handover.EnvFD+"="+strconv.Itoa(memFD))
	argv := append([]string{os.Args[0]}, args...)

	if beforeExec != nil {
		beforeExec()
	}
	// No child may be forked while the descriptors are inheritable: it
	// would get them too. os/exec forks under ForkLock's read side.
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	defer func() {
		for _, k := range keep {
			_ = handover.CloseOnExec(k)
		}
	}()
	for _, k := range keep {
		if _, err := handover.KeepAcrossExec(k); err != nil {
			return fmt.Errorf("%w: %v", ErrSwitch, err)
		}
	}
	for attempt := 0; ; attempt++ {
		err = syscall.Exec(binary, argv, env)
		// See askVersion: a child forked while the binary was written may
		// hold it open for writing a moment longer.
		if !errors.Is(err, syscall.ETXTBSY) || attempt == textBusyRetries {
			break
		}
		time.Sleep(textBusyPause)
	}
	return fmt.Errorf("%w: exec %s: %v", ErrSwitch, binary, err)
}

// fdOf is the descriptor number of c, unchanged.
func fdOf(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%w: %v", ErrSwitch, err)
	}
	fd := -1
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		return -1, fmt.Errorf("%w: %v", ErrSwitch, err)
	}
	return fd, nil
}

// withoutVar is env without the variable name.
func withoutVar(env []string, name string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
