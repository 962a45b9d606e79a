package process

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// peekExit takes the exit status of the attempt's process, which its quick
// watch saw exit, without reaping it (waitid(2) on its pidfd with
// WNOWAIT): the zombie, and with it the kernel's release of the process,
// wait until the answer is on its way (superviseHere reaps it then). It
// reports false when it could not (no pidfd, an error, a siginfo it does
// not read): the caller reaps at once instead.
//
// Why: wait4 on the answer's way releases the whole exited process, a
// system call of some microseconds run with caches cold from the child.
func (p *Process) peekExit(att *attempt) bool {
	if att.pidfd < 0 {
		return false
	}
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, att.pidfd, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		break
	}
	ws, ok := exitStatusOf(&info, att.pid)
	if !ok {
		return false
	}
	p.mu.Lock()
	att.code, att.status = exitCode(ws), &ws
	p.mu.Unlock()
	return true
}

// exitStatusOf is the wait status a child's siginfo from waitid says, as
// wait4 would give it, and whether info is the exit of pid. The child's
// fields follow the three ints of the header, at offset 16 on 64-bit
// Linux (si_pid, si_uid, si_status); elsewhere it reads nothing.
func exitStatusOf(info *unix.Siginfo, pid int) (syscall.WaitStatus, bool) {
	if unsafe.Sizeof(uintptr(0)) != 8 || info.Signo != int32(unix.SIGCHLD) {
		return 0, false
	}
	child := (*[3]int32)(unsafe.Add(unsafe.Pointer(info), 16)) // si_pid, si_uid, si_status
	if int(child[0]) != pid {
		return 0, false
	}
	status := child[2]
	switch info.Code {
	case cldExited:
		return syscall.WaitStatus((status & 0xff) << 8), true
	case cldKilled:
		return syscall.WaitStatus(status & 0x7f), true
	case cldDumped:
		return syscall.WaitStatus(status&0x7f | 0x80), true
	}
	return 0, false
}

// The si_code of a child's end (asm-generic/siginfo.h), which
// golang.org/x/sys/unix does not name.
const (
	cldExited = 1 // exited: si_status is its exit code
	cldKilled = 2 // killed by a signal: si_status is the signal
	cldDumped = 3 // killed, and dumped core
)
