package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

const listenScript = `import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen()
time.sleep(100)
`

func TestWaitForPortsListening(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 not found: run make test, which installs it")
	}
	script := filepath.Join(t.TempDir(), "listen.py")
	if err := os.WriteFile(script, []byte(listenScript), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts := []string{"127.0.0.1", "0.0.0.0", "::1", "::"}
	m := newTestManager(t, nil)
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			if strings.Contains(host, ":") {
				if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6 here: %v", err)
				} else {
					ln.Close()
				}
			}
			port := testsupport.FreePort(t, "tcp", "")
			p := mustStart(t, m, Spec{Command: fmt.Sprintf("exec python3 %s '%s' %d", script, host, port)})
			if err := p.WaitForPorts(testCtx(t), []int{port}, hangGuard); err != nil {
				t.Fatalf("WaitForPorts: %v (log: %q)", err, logText(t, p.Log(), Both))
			}
			dial := host
			switch host {
			case "0.0.0.0":
				dial = "127.0.0.1"
			case "::":
				dial = "::1"
			}
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(dial, strconv.Itoa(port)), hangGuard)
			if err != nil {
				t.Fatalf("WaitForPorts returned but nothing accepts on %s: %v", host, err)
			}
			conn.Close()
			if err := p.Kill(testCtx(t), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWaitForPortsTimeout(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	port := testsupport.FreePort(t, "tcp", "")
	err := p.WaitForPorts(testCtx(t), []int{port}, 100*time.Millisecond)
	if !errors.Is(err, ErrPortsTimeout) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("WaitForPorts = %v, want ErrPortsTimeout naming port %d", err, port)
	}
	if p.Info().Status != StatusRunning {
		t.Fatal("the process did not keep running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.WaitForPorts(ctx, []int{port}, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForPorts with an expiring context = %v", err)
	}
}

func TestWaitForPortsProcessExits(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exit 3"})
	err := p.WaitForPorts(testCtx(t), []int{testsupport.FreePort(t, "tcp", "")}, 0)
	if !errors.Is(err, ErrExited) {
		t.Fatalf("WaitForPorts = %v, want ErrExited", err)
	}
}

func TestWaitForPortsAlreadyOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	if err := p.WaitForPorts(testCtx(t), []int{ln.Addr().(*net.TCPAddr).Port}, hangGuard); err != nil {
		t.Fatalf("WaitForPorts on an open port: %v", err)
	}
	if err := p.WaitForPorts(testCtx(t), nil, hangGuard); err != nil {
		t.Fatalf("WaitForPorts on no ports: %v", err)
	}
}

func TestWaitForPortsInvalid(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	for _, ports := range [][]int{{0}, {-1}, {65536}, {80, 70000}} {
		if err := p.WaitForPorts(testCtx(t), ports, hangGuard); !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("WaitForPorts(%v) = %v, want ErrInvalidSpec", ports, err)
		}
	}
}

func TestListeningPorts(t *testing.T) {
	var lns []net.Listener
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		network := "tcp4"
		if strings.HasPrefix(addr, "[") {
			network = "tcp6"
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Logf("skipping %s: %v", addr, err)
			continue
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		t.Fatal("could not listen anywhere")
	}
	open, err := ListeningPorts()
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range lns {
		port := ln.Addr().(*net.TCPAddr).Port
		if !open[port] {
			t.Errorf("listener on %s not reported", ln.Addr())
		}
		ln.Close()
		eventually(t, "the closed listener to go", func() bool {
			open, err := ListeningPorts()
			return err == nil && !open[port]
		})
	}
	// A connected (not listening) socket does not count.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.TCPAddr).Port
	if open, _ := ListeningPorts(); open[local] {
		t.Errorf("the client end of a connection (port %d) counts as listening", local)
	}
}
