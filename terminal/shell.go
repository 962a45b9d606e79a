package terminal

import (
	"os"
	"os/exec"
)

// Options describe the session to attach to or start.
type Options struct {
	ID         string
	Shell      string // empty: $SHELL, else /bin/bash, else /bin/sh
	WorkingDir string // empty: the daemon's
	Cols, Rows uint16 // zero: 80x24
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
