package tcplisten

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hangGuard bounds a connection or an accept that should be at once.
const hangGuard = 30 * time.Second

func TestListenServesTheAddressesOfItsHost(t *testing.T) {
	ipv6 := haveIPv6()
	tests := []struct {
		host      string
		boundTo   string // the listener's address, port aside
		reach     []string
		unreached []string
		needsIPv6 bool
	}{
		{host: "", boundTo: "::", reach: []string{"127.0.0.1", "::1"}, needsIPv6: true},
		{host: "0.0.0.0", boundTo: "::", reach: []string{"127.0.0.1", "::1"}, needsIPv6: true},
		{host: "::", boundTo: "::", reach: []string{"127.0.0.1", "::1"}, needsIPv6: true},
		{host: "127.0.0.1", boundTo: "127.0.0.1", reach: []string{"127.0.0.1"}, unreached: []string{"::1"}},
		{host: "::ffff:127.0.0.1", boundTo: "127.0.0.1", reach: []string{"127.0.0.1"}},
		{host: "::1", boundTo: "::1", reach: []string{"::1"}, unreached: []string{"127.0.0.1"}, needsIPv6: true},
		{host: "localhost", reach: []string{"127.0.0.1"}}, // a name: net.Listen's
	}
	for _, tt := range tests {
		t.Run("host="+tt.host, func(t *testing.T) {
			if tt.needsIPv6 && !ipv6 {
				// A kernel without IPv6: every address is IPv4's.
				if tt.boundTo != "::" {
					if ln, err := Listen(tt.host, 0); err == nil {
						ln.Close()
						t.Fatalf("Listen(%q) succeeded without IPv6", tt.host)
					}
					return
				}
				tt.boundTo, tt.reach = "0.0.0.0", []string{"127.0.0.1"}
			}
			ln, err := Listen(tt.host, 0)
			if err != nil {
				t.Fatalf("Listen(%q, 0): %v", tt.host, err)
			}
			defer ln.Close()
			bound := ln.Addr().(*net.TCPAddr)
			if bound.Port == 0 {
				t.Fatalf("Listen(%q, 0) bound port 0, want a free port", tt.host)
			}
			if tt.boundTo != "" && bound.AddrPort().Addr().Unmap() != netip.MustParseAddr(tt.boundTo) {
				t.Errorf("Listen(%q) bound %s, want %s", tt.host, bound, tt.boundTo)
			}
			for _, ip := range tt.reach {
				roundTrip(t, ln, net.JoinHostPort(ip, strconv.Itoa(bound.Port)))
			}
			for _, ip := range tt.unreached {
				if ip == "::1" && !ipv6 {
					continue
				}
				c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(bound.Port)), hangGuard)
				if err == nil {
					c.Close()
					t.Errorf("Listen(%q) took a connection to %s", tt.host, ip)
				}
			}
		})
	}
}

// roundTrip connects to addr, accepts the connection on ln and checks that
// bytes go both ways, on a *net.TCPConn (net/http sets keep-alives and
// no-delay on it).
func roundTrip(t *testing.T, ln net.Listener, addr string) {
	t.Helper()
	client, err := net.DialTimeout("tcp", addr, hangGuard)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(hangGuard))
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(hangGuard))
	server, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept from %s: %v", addr, err)
	}
	defer server.Close()
	if _, ok := server.(*net.TCPConn); !ok {
		t.Fatalf("accepted a %T, want *net.TCPConn", server)
	}
	_ = server.SetDeadline(time.Now().Add(hangGuard))
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(server, got); err != nil || string(got) != "ping" {
		t.Fatalf("server read %q, %v; want ping", got, err)
	}
	if _, err := server.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "pong" {
		t.Fatalf("client read %q, %v; want pong", got, err)
	}
}

func TestListenOnATakenPortSaysSo(t *testing.T) {
	for _, host := range []string{"", "127.0.0.1"} {
		if host == "" && !haveIPv6() {
			continue
		}
		first, err := Listen(host, 0)
		if err != nil {
			t.Fatal(err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		second, err := Listen(host, port)
		first.Close()
		if err == nil {
			second.Close()
			t.Fatalf("host %q: a second Listen on port %d succeeded", host, port)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("host %q: error %v, want EADDRINUSE", host, err)
		}
		want := "listen tcp " + net.JoinHostPort(map[string]string{"": "::", "127.0.0.1": "127.0.0.1"}[host], strconv.Itoa(port)) + ": bind: address already in use"
		if err.Error() != want {
			t.Errorf("host %q: error %q, want %q", host, err, want)
		}
	}
}

func TestListenLeavesOneCloseOnExecDescriptor(t *testing.T) {
	before := openFDs(t)
	ln, err := Listen("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	during := openFDs(t)
	if len(during) != len(before)+1 {
		t.Fatalf("descriptors open: %d before Listen, %d after; want one more", len(before), len(during))
	}
	var fd int
	for d := range during {
		if !before[d] {
			fd = d
		}
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("listener descriptor %d flags %#x, %v: want close-on-exec (processes the daemon starts must not hold its port)", fd, flags, err)
	}
	ln.Close()
	if after := openFDs(t); len(after) != len(before) {
		t.Errorf("descriptors open: %d before Listen, %d after Close", len(before), len(after))
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		host string
		want string // "" for a host left to net.Listen
	}{
		{"", "::"},
		{"0.0.0.0", "::"},
		{"::", "::"},
		{"127.0.0.1", "127.0.0.1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"fd00::1", "fd00::1"},
		{"fe80::1%eth0", ""},
		{"localhost", ""},
		{"sandbox.internal", ""},
	}
	for _, tt := range tests {
		addr, ok := literal(tt.host)
		got := ""
		if ok {
			got = addr.String()
		}
		if got != tt.want {
			t.Errorf("literal(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// openFDs is the set of this process's open descriptors, and the one that
// lists them.
func openFDs(t *testing.T) map[int]bool {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := map[int]bool{}
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			fds[n] = true
		}
	}
	return fds
}

// haveIPv6 says whether this machine can bind the IPv6 loopback.
func haveIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
