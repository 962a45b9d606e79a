package process

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

var errEPIPE = syscall.EPIPE

var signalsByName = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "WINCH": syscall.SIGWINCH,
}

// SignalName is the conventional name of sig, such as "SIGINT".
func SignalName(sig syscall.Signal) string {
	for name, s := range signalsByName {
		if s == sig {
			return "SIG" + name
		}
	}
	return "signal " + strconv.Itoa(int(sig))
}

// ParseSignal accepts "SIGINT", "INT", "int" or a number such as "2".
func ParseSignal(name string) (syscall.Signal, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if num, err := strconv.Atoi(n); err == nil && num > 0 && num < 65 {
		return syscall.Signal(num), nil
	}
	if sig, ok := signalsByName[strings.TrimPrefix(n, "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownSignal, name)
}
