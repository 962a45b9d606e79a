package process

import (
	"errors"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childSiginfo builds the siginfo waitid gives for a child's end.
func childSiginfo(pid, code, status int32) *unix.Siginfo {
	info := &unix.Siginfo{Signo: int32(unix.SIGCHLD), Code: code}
	child := (*[3]int32)(unsafe.Add(unsafe.Pointer(info), 16))
	child[0], child[2] = pid, status
	return info
}

// exitStatusOf reads a child's siginfo as wait4 would give its status.
func TestExitStatusOf(t *testing.T) {
	cases := []struct {
		name       string
		info       *unix.Siginfo
		ok         bool
		exited     bool
		code       int
		signal     syscall.Signal
		coreDumped bool
	}{
		{"exit 0", childSiginfo(42, cldExited, 0), true, true, 0, 0, false},
		{"exit 3", childSiginfo(42, cldExited, 3), true, true, 3, 0, false},
		{"exit 255", childSiginfo(42, cldExited, 255), true, true, 255, 0, false},
		{"killed", childSiginfo(42, cldKilled, int32(syscall.SIGTERM)), true, false, 0, syscall.SIGTERM, false},
		{"dumped", childSiginfo(42, cldDumped, int32(syscall.SIGSEGV)), true, false, 0, syscall.SIGSEGV, true},
		{"another pid", childSiginfo(43, cldExited, 0), false, false, 0, 0, false},
		{"stopped, not an end", childSiginfo(42, 5, int32(syscall.SIGSTOP)), false, false, 0, 0, false},
		{"not SIGCHLD", &unix.Siginfo{Signo: int32(unix.SIGUSR1)}, false, false, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, ok := exitStatusOf(tc.info, 42)
			if ok != tc.ok {
				t.Fatalf("ok = %t, want %t", ok, tc.ok)
			}
			if !ok {
				return
			}
			if ws.Exited() != tc.exited || (tc.exited && ws.ExitStatus() != tc.code) ||
				(!tc.exited && (!ws.Signaled() || ws.Signal() != tc.signal || ws.CoreDump() != tc.coreDumped)) {
				t.Errorf("status %#x: exited %t (%d), signaled %t (%v), core %t; want exited %t (%d), signal %v, core %t",
					uint32(ws), ws.Exited(), ws.ExitStatus(), ws.Signaled(), ws.Signal(), ws.CoreDump(), tc.exited, tc.code, tc.signal, tc.coreDumped)
			}
		})
	}
}

// An exec's quick end records the exit its process really had, from the
// peeked status, and the zombie left for after the answer is reaped: the
// pid is no child of the daemon anymore.
func TestExecutePeeksThenReaps(t *testing.T) {
	cases := []struct {
		command  string
		status   Status
		exitCode int
	}{
		{"exit 0", StatusCompleted, 0},
		{"exit 7", StatusFailed, 7},
		{"kill -TERM $$", StatusFailed, -1},
	}
	m := newTestManager(t, nil)
	m.quickLimit = hangGuard // the exit is seen by the exec's own watch
	for _, tc := range cases {
		t.Run(tc.command, func(t *testing.T) {
			p, err := m.Execute(testCtx(t), ExecuteRequest{Spec: Spec{Command: tc.command}, WaitForCompletion: true})
			if err != nil {
				t.Fatal(err)
			}
			if info := p.Info(); info.Status != tc.status || info.ExitCode != tc.exitCode {
				t.Errorf("ended %s with %d; want %s with %d", info.Status, info.ExitCode, tc.status, tc.exitCode)
			}
			pid, err := strconv.Atoi(p.PID())
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the zombie reaped", func() bool {
				var info unix.Siginfo
				err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
				return errors.Is(err, unix.ECHILD)
			})
		})
	}
}

// peekExit takes a child's exit status and leaves it a zombie: the reap
// that follows still finds it, with the same status.
func TestPeekExitLeavesTheZombie(t *testing.T) {
	pidfd := -1
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 5"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{PidFD: &pidfd}})
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, int(hangGuard.Milliseconds())); err != nil || fds[0].Revents == 0 {
		t.Fatalf("the child's exit: %v (revents %#x)", err, fds[0].Revents)
	}
	p := &Process{}
	att := &attempt{pid: pid, pidfd: pidfd}
	if !p.peekExit(att) {
		t.Fatal("peekExit could not take the status")
	}
	if att.code != 5 || att.status == nil || att.status.ExitStatus() != 5 || att.reaped {
		t.Fatalf("after peekExit: code %d, status %v, reaped %t; want 5, exit 5, not reaped", att.code, att.status, att.reaped)
	}
	ws, err := reapChild(pid) // fails with ECHILD if peekExit had reaped it
	if err != nil || ws != *att.status {
		t.Fatalf("the reap after: %#x, %v; want %#x", uint32(ws), err, uint32(*att.status))
	}
}

// A reap that finds no child (taken meanwhile) keeps the status peekExit
// took; with none peeked, the code is -1 as before.
func TestReapKeepsThePeekedStatus(t *testing.T) {
	m := newTestManager(t, nil)
	for _, peek := range []bool{true, false} {
		t.Run("peeked "+strconv.FormatBool(peek), func(t *testing.T) {
			pidfd := -1
			pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 5"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{PidFD: &pidfd}})
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(pidfd)
			if _, err := reapChild(pid); err != nil { // waits for the exit, and takes the zombie
				t.Fatal(err)
			}
			p := &Process{m: m}
			att := &attempt{pid: pid, pidfd: -1}
			if peek {
				ws := syscall.WaitStatus(5 << 8)
				att.code, att.status = exitCode(ws), &ws
			}
			if !p.reap(testCtx(t), att, true) || !att.reaped {
				t.Fatal("reap did not report the attempt reaped")
			}
			want := -1
			if peek {
				want = 5
			}
			if att.code != want {
				t.Fatalf("code %d after a reap that found no child; want %d", att.code, want)
			}
		})
	}
}
