// Package tcplisten opens the daemon's listening TCP socket with the few
// system calls it needs.
//
// net.Listen spends most of its time before the socket exists: it probes
// the IP stack (four sockets and two binds), reads
// /proc/sys/net/core/somaxconn, and probes for and then uses Multipath
// TCP. That is 80 to 120 µs of a daemon start-up of about 0.5 ms of its own,
// on the way to the first answer. Listen opens one socket, sets the options
// net.Listen sets (SO_REUSEADDR; a dual stack where IPv6 is used) and
// hands it to the net package, which accepts on it as on any listener.
//
// The choices, the same as net.Listen("tcp", ...) makes:
//   - no host, "0.0.0.0" or "::": every address, one IPv6 socket that also
//     takes IPv4 clients (as IPv4-mapped addresses); an IPv4 socket where
//     the kernel has no IPv6;
//   - an IPv4 address: an IPv4 socket; an IPv6 address: an IPv6 socket
//     bound to it.
//
// A host name, or an IPv6 address with a zone, goes to net.Listen, which
// resolves it. The one difference: the socket is plain TCP, never MPTCP
// (net.Listen's default since Go 1.24), which no client of a sandbox
// daemon uses.
package tcplisten

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Listen listens for TCP on host (see the package doc) and port; port 0
// takes a free one.
func Listen(host string, port int) (net.Listener, error) {
	addr, ok := literal(host)
	if !ok {
		return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	}
	ln, err := listenOn(addr, port)
	if err != nil && addr.IsUnspecified() && errors.Is(err, unix.EAFNOSUPPORT) {
		ln, err = listenOn(netip.IPv4Unspecified(), port) // a kernel without IPv6
	}
	return ln, err
}

// literal is the address host names without a lookup: the IPv6 wildcard
// for every address; ok is false for a name or a zoned address.
func literal(host string) (netip.Addr, bool) {
	if host == "" {
		return netip.IPv6Unspecified(), true
	}
	if strings.Contains(host, "%") {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	if addr.IsUnspecified() {
		return netip.IPv6Unspecified(), true // the dual stack, as net.Listen makes it
	}
	return addr.Unmap(), true
}

// listenOn binds one socket of addr's family to addr and port and listens.
func listenOn(addr netip.Addr, port int) (net.Listener, error) {
	opErr := func(call string, err error) error {
		return &net.OpError{Op: "listen", Net: "tcp", Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port))), Err: os.NewSyscallError(call, err)}
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: port, Addr: addr.As16()})
	if addr.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: port, Addr: addr.As4()}
	}
	// Blocking until the net package takes it: os.NewFile would put a
	// non-blocking descriptor on the runtime's poller, only to take it off
	// again when the net package has made its own copy.
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, opErr("socket", err)
	}
	// Closed once the net package holds its own copy, or on failure.
	sock := os.NewFile(uintptr(fd), "tcp-listener")
	defer sock.Close()
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			return nil, opErr("setsockopt", err)
		}
	}
	// A restarted daemon binds at once, with connections of the last one
	// still in TIME_WAIT.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, opErr("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, opErr("bind", err)
	}
	// The kernel caps the backlog at net.core.somaxconn, the value
	// net.Listen reads from /proc to pass it.
	if err := unix.Listen(fd, math.MaxInt32); err != nil {
		return nil, opErr("listen", err)
	}
	ln, err := net.FileListener(sock)
	if err != nil {
		return nil, opErr("listen", err)
	}
	return ln, nil
}
