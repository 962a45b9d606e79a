package terminal

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Options describe the session to attach to or start.
type Options struct {
	ID         string
	Shell      string // empty: $SHELL, else /bin/bash, else /bin/sh
	WorkingDir string // empty: the daemon's
	Cols, Rows uint16 // zero: 80x24
}

// resolve checks the options of a new session and fills in the defaults,
// before anything is started (or another session evicted) for them. The
// working directory is looked up as user (nil: the daemon): what the user
// cannot see is not there.
func resolve(opts Options, user *runas.User) (Options, error) {
	if opts.Shell == "" {
		opts.Shell = defaultShell()
	} else if p, err := exec.LookPath(opts.Shell); err == nil {
		opts.Shell = p
	} else {
		return opts, fmt.Errorf("%w: shell %q: %v", ErrInvalid, opts.Shell, err)
	}
	if opts.WorkingDir != "" {
		leave := user.Enter()
		st, err := os.Stat(opts.WorkingDir)
		leave()
		if err != nil || !st.IsDir() {
			return opts, fmt.Errorf("%w: working directory %q is not a directory", ErrInvalid, opts.WorkingDir)
		}
	} else if wd, err := os.Getwd(); err == nil {
		opts.WorkingDir = wd
	}
	if opts.Cols == 0 {
		opts.Cols = 80
	}
	if opts.Rows == 0 {
		opts.Rows = 24
	}
	return opts, nil
}

// defaultShell picks the shell for sessions that name none.
func defaultShell() string {
	if sh := os.Getenv("SHELL"); sh != "" {
		if p, err := exec.LookPath(sh); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/bin/bash"); err == nil {
		return "/bin/bash"
	}
	return "/bin/sh"
}

// shellEnv is the daemon's environment with the terminal type the PTY
// emulates.
func shellEnv() []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if len(kv) >= 5 && kv[:5] == "TERM=" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TERM=xterm-256color")
}
