package process

import (
	"errors"
	"os"
	"syscall"
)

// forkShell starts one attempt of spec: its command run by the manager's
// shell, in its working directory, with its environment, its stdio the
// three descriptors given (the caller keeps them open until it returns).
// With withPidfd, the clone also gives the child's
// pidfd (else pidfd is -1).
//
// It forks directly (syscall.ForkExec) rather than through os/exec: an
// exec.Cmd's start costs, on the way to every fork, a copy of the whole
// environment without duplicates (done once instead, in Config.setDefaults),
// an os.Process with its own pidfd (closed, later, on the way to the
// answer) and their bookkeeping: some 15 µs of an exec-and-wait on the
// 2-core VM (docs/measured.md). What it starts is the same (Spec.forkArgs:
// the same argv, directory, environment and attributes); its errors read
// as os.StartProcess's ("fork/exec /bin/sh: ...").
func (m *Manager) forkShell(spec *Spec, stdio [3]uintptr, withPidfd bool) (pid, pidfd int, err error) {
	pidfd = -1
	var pidfdAt *int
	if withPidfd {
		pidfdAt = &pidfd
	}
	argv, attr := spec.forkArgs(&m.cfg, stdio[:], pidfdAt)
	pid, err = syscall.ForkExec(m.cfg.Shell, argv, attr)
	if err != nil && pidfdAt != nil && cloneRefused(err) {
		// A kernel or a seccomp filter that gives pidfds but refuses them
		// from clone: the start goes on without one (no quick watch).
		pidfd = -1
		attr.Sys.PidFD = nil
		pid, err = syscall.ForkExec(m.cfg.Shell, argv, attr)
	}
	if err != nil {
		return 0, -1, &os.PathError{Op: "fork/exec", Path: m.cfg.Shell, Err: err}
	}
	return pid, pidfd, nil
}

// cloneRefused reports whether a fork's error may be the clone refusing
// CLONE_PIDFD. Another cause fails the fork without it the same way.
func cloneRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSYS)
}
