package terminal

import (
	"os"
	"strconv"

	"github.com/sandbox-api/sandbox-api/internal/runas"
	"golang.org/x/sys/unix"
)

// giveTerminal makes the terminal side of the PTY whose master is given
// the user's, as login(1) does: programs that open their terminal by name
// (screen, gpg's pinentry, write) need to own it. Best effort: the shell
// works on the descriptors it inherited either way.
func giveTerminal(master *os.File, u *runas.User) {
	if u == nil {
		return
	}
	rc, err := master.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if n, err := unix.IoctlGetInt(int(fd), unix.TIOCGPTN); err == nil {
			_ = os.Lchown("/dev/pts/"+strconv.Itoa(n), int(u.UID), -1)
		}
	})
}
