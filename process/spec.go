package process

import (
	"math"
	"strings"
	"syscall"
	"time"
)

// Spec describes a process to start: everything a request may ask of the
// process itself. This file is the one place a new such field goes: the
// field, its check in validate, and its effect on the OS command in
// forkArgs. The front doors only map their wire to it (see ExecuteRequest).
type Spec struct {
	Command    string
	Name       string            // empty: a unique name is generated
	WorkingDir string            // empty: the manager's working directory
	Env        map[string]string // added to the daemon's environment
	// Timeout is the lifetime limit of a keepAlive process (nil: the default,
	// 0: none). It is ignored without KeepAlive: a client's wait is bounded
	// by the caller, never by killing the process. Execute also bounds its
	// waits by it.
	Timeout          *time.Duration
	KeepAlive        bool
	RestartOnFailure bool
	MaxRestarts      int // negative: unlimited
	Stdin            bool
}

// validate refuses, with a *SpecError, what would fail later as if the
// request were fine. It is pure: nothing runs, nothing is reserved.
func (s *Spec) validate() error {
	if strings.TrimSpace(s.Command) == "" {
		return invalidSpec("command is required")
	}
	// The kernel takes C strings: a NUL would fail the start later, as
	// if the request were fine.
	if strings.ContainsRune(s.Command, 0) {
		return invalidSpec("command contains a NUL byte")
	}
	if strings.ContainsRune(s.WorkingDir, 0) {
		return invalidSpec("workingDir contains a NUL byte")
	}
	if err := validateName(s.Name); err != nil {
		return err
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return invalidSpec("invalid environment variable name %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return invalidSpec("environment variable %s contains a NUL byte", k)
		}
	}
	return nil
}

// forkArgs is the OS command for one attempt: the spec's command run by
// the manager's shell, in the (resolved) working directory, with the
// daemon's environment plus the spec's (which replace variables of the
// same name), as the configured user, on stdio. Each attempt leads its own
// process group, which stop and kill signal as a whole. With pidfd set,
// the clone gives the child's pidfd there.
func (s *Spec) forkArgs(cfg *Config, stdio []uintptr, pidfd *int) (argv []string, attr *syscall.ProcAttr) {
	return []string{cfg.Shell, "-c", s.Command}, &syscall.ProcAttr{
		Dir:   s.WorkingDir,
		Env:   withEnv(cfg.Env, s.Env),
		Files: stdio,
		Sys:   &syscall.SysProcAttr{Setpgid: true, Credential: cfg.User.Credential(), PidFD: pidfd},
	}
}

// TimeoutSeconds turns a timeout given in whole seconds into a Duration,
// refusing negative ones and ones a Duration cannot hold (about 292
// years), which would wrap around to a short or negative wait. Both wires
// give timeouts in seconds; this is their one conversion.
func TimeoutSeconds(n int) (time.Duration, error) {
	if n < 0 {
		return 0, invalidSpec("timeout must not be negative")
	}
	if n > maxTimeoutSeconds {
		return 0, invalidSpec("timeout must be at most %d seconds", maxTimeoutSeconds)
	}
	return time.Duration(n) * time.Second, nil
}

// maxTimeoutSeconds is the longest timeout a Duration holds.
const maxTimeoutSeconds = int(math.MaxInt64 / int64(time.Second))
