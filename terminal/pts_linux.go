package terminal

import (
	"os"
	"strconv"

	"github.com/sandbox-api/sandbox-api/internal/fdholders"
	"golang.org/x/sys/unix"
)

// slaveOf identifies the terminal side of the PTY whose master is given:
// the shell and its children hold it open. It is empty when the name cannot
// be found, and the session then waits only the exit grace for late output.
func slaveOf(master *os.File) []fdholders.ID {
	rc, err := master.SyscallConn()
	if err != nil {
		return nil
	}
	n, ierr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN) }); err != nil || ierr != nil {
		return nil
	}
	id, ok := fdholders.OfPath("/dev/pts/" + strconv.Itoa(n))
	if !ok {
		return nil
	}
	return []fdholders.ID{id}
}
