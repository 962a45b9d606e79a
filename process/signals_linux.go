package process

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSignal is SIGRTMAX on Linux: signals above it do not exist, and a
// number is the only way to name the real-time ones (34 to 64).
const maxSignal = 64

// SignalName is the conventional name of sig, such as "SIGINT", or
// "signal 40" for a signal without one (the real-time signals).
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(int(sig))
}

// ParseSignal accepts a signal's name with or without its SIG prefix, in
// any case, or its number: "SIGINT", "INT", "int" and "2" are all SIGINT.
// The names come from golang.org/x/sys/unix (generated from the kernel's
// headers), not from a table of ours.
func ParseSignal(name string) (syscall.Signal, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if num, err := strconv.Atoi(n); err == nil && num > 0 && num <= maxSignal {
		return syscall.Signal(num), nil
	}
	if !strings.HasPrefix(n, "SIG") {
		n = "SIG" + n
	}
	if sig := unix.SignalNum(n); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownSignal, name)
}
