package network

import (
	"bufio"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// listenScript binds a TCP listener on host, prints its port, then sleeps
// until the test kills it.
const listenScript = `import socket,sys,time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.bind((sys.argv[1], 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(3600)`

// startListener runs the listener under `depth` extra shells, so that the
// socket belongs to a grandchild of the returned root when depth is 2.
func startListener(t *testing.T, host string, depth int) (root, port int) {
	t.Helper()
	cmd := "exec python3 -c " + testsupport.ShellQuote(listenScript) + " " + host
	for i := 0; i < depth; i++ {
		// "; true" keeps each shell alive as a parent instead of exec'ing.
		cmd = "sh -c " + testsupport.ShellQuote(cmd) + "; true"
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
	s := testsupport.Receive(t, line, "the listener to start")
	if port, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
		t.Fatalf("listener printed %q", s)
	}
	return c.Process.Pid, port
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
			var found *Port
			for i := range ports {
				if ports[i].Port == port {
					found = &ports[i]
				}
			}
			if found == nil {
				t.Fatalf("port %d not in %+v", port, ports)
			}
			if found.Address != tt.addr || found.Family() != tt.family || found.OwnerPID == 0 {
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
