package main

// The token stays out of the workload's reach. The kernel shows a process's
// initial environment and command line in /proc/<pid>/environ and
// /proc/<pid>/cmdline, and os.Unsetenv does not change them (they are the
// block execve(2) received). So a daemon that was given the token in
// SANDBOX_API_TOKEN or --token executes itself again, as its first act and
// with the same pid, with the token in neither: it goes to the new image
// through an anonymous memory file whose descriptor number is in
// SANDBOX_API_TOKEN_FD, read and closed before anything else starts.
//
// Around the re-execution nothing has started yet: no process, no listener,
// no reaper (a PID 1 takes up its duties in the new image, and zombies
// adopted meanwhile are reaped with the next SIGCHLD's scan). Until the
// execve the Go runtime's default for SIGTERM, SIGINT and SIGHUP applies,
// which ends the daemon, as at any daemon's start; in the new image, until
// its runtime has installed its handlers, the kernel's default applies
// (end, or nothing for a PID 1, as at the container's first exec).
//
// The daemon is also made non-dumpable: only a process with CAP_SYS_PTRACE
// may then read its memory (ptrace, /proc/<pid>/mem, process_vm_readv),
// where the token lives. Docker drops that capability by default; a root
// workload that has it, or that reaches the daemon some other way (its
// binary, its token file), still can. A workload run as another user
// (--user) never can: the kernel refuses it the memory, the environment
// and signals of a root process.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// envTokenFD names the descriptor that holds the token, set by the daemon
// for its own re-execution (a supervisor may use it too).
const envTokenFD = "SANDBOX_API_TOKEN_FD"

// secureToken takes the token out of the daemon's environment and command
// line: it re-executes the daemon when they hold it, or, in the image that
// follows, reads it from envTokenFD into cfg.token. It returns a warning
// when the token could not be hidden (the daemon works anyway), and an error
// when the token handed over cannot be read.
func secureToken(cfg *config) (warning, err error) {
	defer keepMemoryPrivate()
	if fd, ok := os.LookupEnv(envTokenFD); ok {
		_ = os.Unsetenv(envTokenFD) // processes must not inherit it
		restoreName()
		if cfg.token != "" {
			return nil, fmt.Errorf("$%s and another token: give the token one way", envTokenFD)
		}
		cfg.token, err = readTokenFD(fd)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", envTokenFD, err)
		}
		return nil, nil
	}
	wanted := reexecWanted(*cfg)
	_ = os.Unsetenv(envToken) // processes must not inherit it
	if !wanted {
		return nil, nil
	}
	err = reexecWithout(cfg)
	// Only a failure returns.
	return fmt.Errorf("the token stays readable in /proc/%d/environ or cmdline: %w", os.Getpid(), err), nil
}

// tokenEnv reads what the environment says of the token: reexecuted when
// this image is the one a re-execution without the token started (it got
// the token through $SANDBOX_API_TOKEN_FD), inEnv when $SANDBOX_API_TOKEN
// holds one.
func tokenEnv() (reexecuted, inEnv bool) {
	_, reexecuted = os.LookupEnv(envTokenFD)
	return reexecuted, strings.TrimSpace(os.Getenv(envToken)) != ""
}

// reexecWanted reports whether secureToken executes the daemon again for
// cfg: the token is in $SANDBOX_API_TOKEN or on the command line, and this
// image is not the one that followed such a re-execution.
func reexecWanted(cfg config) bool {
	reexecuted, inEnv := tokenEnv()
	return !reexecuted && (inEnv || cfg.access.tokenInArgs)
}

// tokenMayReexec reports whether secureToken may execute the daemon again
// for this command line and environment (reexecWanted) before the flags
// are parsed: a token in $SANDBOX_API_TOKEN or a flag that names one,
// unless this image is already that second one. It says yes when in doubt.
func tokenMayReexec(args []string) bool {
	reexecuted, inEnv := tokenEnv()
	if reexecuted || inEnv {
		return !reexecuted
	}
	for _, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "token") {
			return true
		}
	}
	return false
}

// reexecWithout executes the daemon again with the same arguments but the
// token, and the same environment but SANDBOX_API_TOKEN; the token goes
// through a memory file. It returns only on failure.
func reexecWithout(cfg *config) error {
	f, err := handover.NewMemFile("sandbox-api-token", []byte(cfg.token))
	if err != nil {
		return err
	}
	defer f.Close() // reached only when the execve failed
	// The new image inherits it. Nothing is started yet that could
	// inherit it too.
	fd, err := handover.KeepAcrossExec(f)
	if err != nil {
		return err
	}
	args := os.Args[1:]
	if cfg.access.argsChanged {
		args = nil
		if cfg.access.argsShown != "" {
			args = strings.Split(cfg.access.argsShown, "\x00")
		}
	}
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envToken+"=") && !strings.HasPrefix(kv, envTokenFD+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, envTokenFD+"="+strconv.Itoa(fd))
	// /proc/self/exe: the binary this image runs, even if its path changed.
	err = syscall.Exec("/proc/self/exe", append([]string{os.Args[0]}, args...), env)
	return fmt.Errorf("execute the daemon again: %w", err)
}

// readTokenFD reads the token from the descriptor numbered fdText (a
// memory file from its start, or a pipe a supervisor gave), and closes the
// descriptor.
func readTokenFD(fdText string) (string, error) {
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return "", fmt.Errorf("%q is not a descriptor number above 2", fdText)
	}
	data, err := handover.ReadFD(fd, maxTokenBytes)
	if err != nil {
		return "", fmt.Errorf("%w (a token is at most %d bytes)", err, maxTokenBytes)
	}
	return strings.TrimSpace(string(data)), nil
}

// restoreName gives the daemon back the name ps and the port listings show
// (/proc/<pid>/comm) after an exec of itself: the kernel names a process
// after the file it executes, and the token's re-exec executes
// /proc/self/exe ("exe"), a switch to a new binary a file of the upgrade
// folder ("candidate-..."). argv[0] stays the first image's. The kernel
// keeps 15 bytes of it.
func restoreName() {
	name := filepath.Base(os.Args[0])
	if len(name) > 15 {
		name = name[:15]
	}
	_ = os.WriteFile("/proc/self/comm", []byte(name), 0)
}

// keepMemoryPrivate makes the daemon non-dumpable (see the top of the
// file). execve resets the flag, so every image sets it.
func keepMemoryPrivate() {
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
