package terminal

import (
	"os/exec"
	"syscall"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// asUser makes cmd start as u (nil: as the daemon), with u's HOME, USER and
// LOGNAME, as a login would.
func asUser(cmd *exec.Cmd, u *runas.User) {
	cmd.Env = u.Environ(cmd.Env)
	if c := u.Credential(); c != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = c
	}
}
