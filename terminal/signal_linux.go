package terminal

import "syscall"

// The shell leads its own session and process group (pty.Start sets
// Setsid), so its pid is the group to signal.

func hangUp(pid int) { _ = syscall.Kill(-pid, syscall.SIGHUP) }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
