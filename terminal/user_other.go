//go:build !linux

package terminal

import (
	"os"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// giveTerminal does nothing where the PTY's name is not known.
func giveTerminal(*os.File, *runas.User) {}
