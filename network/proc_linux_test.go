package network

import (
	"bufio"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listenScript binds a TCP listener on host, prints its port, then sleeps.
const listenScript = `import socket,sys,time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.bind((sys.argv[1], 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)`

// startListener runs the listener under `depth` extra shells, so that the
// socket belongs to a grandchild of the returned root when depth is 2.
func startListener(t *testing.T, host string, depth int) (root, port int) {
	t.Helper()
	cmd := "exec python3 -c " + shellQuote(listenScript) + " " + host
	for i := 0; i < depth; i++ {
		// "; true" keeps each shell alive as a parent instead of exec'ing.
		cmd = "sh -c " + shellQuote(cmd) + "; true"
	}
	c := exec.Command("sh", "-c", cmd)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // one kill ends the tree
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_ = c.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		port, err = strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("listener printed %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not start")
	}
	return c.Process.Pid, port
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func TestTreePorts(t *testing.T) {
	tests := []struct {
		name, host, addr, family string
		depth                    int
	}{
		{"direct child, any address", "0.0.0.0", "0.0.0.0", "ipv4", 0},
		{"grandchild", "0.0.0.0", "0.0.0.0", "ipv4", 2},
		{"loopback only", "127.0.0.1", "127.0.0.1", "ipv4", 1},
		{"ipv6 loopback", "::1", "::1", "ipv6", 1},
	}
	s := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, port := startListener(t, tt.host, tt.depth)
			ports, err := s.treePorts(root)
			if err != nil {
				t.Fatal(err)
			}
			var found *PortInfo
			for i := range ports {
				if ports[i].Port == port {
					found = &ports[i]
				}
			}
			if found == nil {
				t.Fatalf("port %d not in %+v", port, ports)
			}
			if found.Address != tt.addr || found.Family != tt.family || found.OwnerPID == 0 {
				t.Errorf("got %+v, want address %s family %s", *found, tt.addr, tt.family)
			}
			if tt.depth > 0 && found.OwnerPID == root {
				t.Errorf("owner is the root %d, want a descendant", root)
			}
		})
	}
}

func TestTreePortsExcludesOtherTrees(t *testing.T) {
	_, port := startListener(t, "127.0.0.1", 0)
	other, _ := startListener(t, "127.0.0.1", 0)
	ports, err := New(Config{}).treePorts(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p.Port == port {
			t.Fatalf("port %d of another tree reported: %+v", port, ports)
		}
	}
}

func TestParseLocal(t *testing.T) {
	tests := []struct {
		in   string
		v6   bool
		addr string
		port int
	}{
		{"0100007F:1F90", false, "127.0.0.1", 8080},
		{"00000000:0050", false, "0.0.0.0", 80},
		{"00000000000000000000000001000000:1F90", true, "::1", 8080},
		{"00000000000000000000000000000000:0016", true, "::", 22},
	}
	for _, tt := range tests {
		l, ok := parseLocal(tt.in, tt.v6)
		if !ok || l.Address != tt.addr || l.Port != tt.port {
			t.Errorf("parseLocal(%q) = %+v, %v; want %s:%d", tt.in, l, ok, tt.addr, tt.port)
		}
	}
	if _, ok := parseLocal("zz:1", false); ok {
		t.Error("garbage accepted")
	}
}

// sock_diag and /proc must agree on the listener table.
func TestDiagMatchesProc(t *testing.T) {
	startListener(t, "::1", 0)
	startListener(t, "127.0.0.1", 0)
	key := func(ls []Listener) map[Listener]bool {
		m := map[Listener]bool{}
		for _, l := range ls {
			m[l] = true
		}
		return m
	}
	// Other processes may open or close sockets between the two reads:
	// a few tries before calling it a mismatch.
	var diag, proc []Listener
	for try := 0; try < 3; try++ {
		var err error
		diag, err = diagListeners()
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			t.Skipf("sock_diag unavailable here: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if proc, err = procListeners("/proc"); err != nil {
			t.Fatal(err)
		}
		if sameSet(key(diag), key(proc)) {
			return
		}
	}
	t.Fatalf("sock_diag %v, /proc %v", diag, proc)
}

func sameSet(a, b map[Listener]bool) bool {
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	for l := range a {
		if !b[l] {
			return false
		}
	}
	return true
}
