package process

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	valid := []struct {
		in   string
		want syscall.Signal
	}{
		{"SIGINT", syscall.SIGINT},
		{"INT", syscall.SIGINT},
		{"int", syscall.SIGINT},
		{"sigterm", syscall.SIGTERM},
		{"SigKill", syscall.SIGKILL},
		{" TERM\n", syscall.SIGTERM},
		{"HUP", syscall.SIGHUP},
		{"QUIT", syscall.SIGQUIT},
		{"USR1", syscall.SIGUSR1},
		{"SIGUSR2", syscall.SIGUSR2},
		{"STOP", syscall.SIGSTOP},
		{"CONT", syscall.SIGCONT},
		{"ABRT", syscall.SIGABRT},
		{"ALRM", syscall.SIGALRM},
		{"WINCH", syscall.SIGWINCH},
		{"9", syscall.SIGKILL},
		{"15", syscall.SIGTERM},
		{"1", syscall.Signal(1)},
		{"64", syscall.Signal(64)},
	}
	for _, tc := range valid {
		if got, err := ParseSignal(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", " ", "SIG", "0", "65", "-1", "-9", "+9x", "9x", "SIG9", "FOO", "SIGFOO", "SIGSIGINT", "KILL 9"} {
		got, err := ParseSignal(in)
		if !errors.Is(err, ErrUnknownSignal) || got != 0 {
			t.Errorf("ParseSignal(%q) = %v, %v; want ErrUnknownSignal", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(in)) {
			t.Errorf("error %q does not quote the input %q", err, in)
		}
	}
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGINT: "SIGINT", syscall.SIGUSR1: "SIGUSR1", syscall.SIGKILL: "SIGKILL", syscall.Signal(40): "signal 40",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
}
