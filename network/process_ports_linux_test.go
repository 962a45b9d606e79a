package network

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/process"
)

func findPort(ports []Port, port int) *Port {
	for i := range ports {
		if ports[i].Port == port {
			return &ports[i]
		}
	}
	return nil
}

// ProcessPorts takes a managed process by name or pid string, and any live
// process of the container by its pid; each port names the process holding
// the socket.
func TestProcessPortsByIdentifier(t *testing.T) {
	m, err := process.NewManager(process.Config{LogDir: t.TempDir(), WorkingDir: t.TempDir(), Shell: "/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(time.Second) })
	port := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	// The listener is a grandchild: the managed shell runs another shell.
	script := "import socket,time\ns=socket.socket(); s.bind(('127.0.0.1', " + strconv.Itoa(port) + ")); s.listen(); time.sleep(600)"
	p, err := m.Start(process.Spec{Name: "web", Command: "sh -c " + testsupport.ShellQuote("python3 -c "+testsupport.ShellQuote(script)+"; true") + "; true"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testsupport.HangGuard)
	defer cancel()
	if err := p.WaitForPorts(ctx, []int{port}, testsupport.HangGuard); err != nil {
		t.Fatal(err)
	}
	unmanagedRoot, unmanagedPort := startListener(t, "127.0.0.1", 1)
	managedPID, _ := strconv.Atoi(p.PID())

	s := New(Config{Processes: m})
	tests := []struct {
		name    string
		id      string
		wantPID int
		port    int
	}{
		{"managed, by name", "web", managedPID, port},
		{"managed, by pid", p.PID(), managedPID, port},
		{"unmanaged, by pid", strconv.Itoa(unmanagedRoot), unmanagedRoot, unmanagedPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, ports, err := s.ProcessPorts(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if pid != tt.wantPID {
				t.Errorf("pid = %d, want %d", pid, tt.wantPID)
			}
			got := findPort(ports, tt.port)
			if got == nil {
				t.Fatalf("port %d not in %+v", tt.port, ports)
			}
			if got.OwnerName != "python3" || got.OwnerPID == 0 || got.OwnerPID == tt.wantPID || got.Protocol != "tcp" || got.Address != "127.0.0.1" {
				t.Errorf("got %+v, want a tcp socket on 127.0.0.1 held by a python3 below %d", *got, tt.wantPID)
			}
		})
	}
}

func TestProcessPortsRefusals(t *testing.T) {
	s := New(Config{})
	tests := []struct {
		id   string
		want error
	}{
		{"abc", ErrInvalidPID},
		{"0", ErrInvalidPID},
		{"-1", ErrInvalidPID},
		{"+5", ErrInvalidPID},
		{"05", ErrInvalidPID},
		{" 5", ErrInvalidPID},
		{"", ErrInvalidPID},
		{"99999999999999999999", ErrInvalidPID}, // no int holds it
		{"4194305", process.ErrNotFound},        // above the kernel's pid_max
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, _, err := s.ProcessPorts(tt.id)
			if !errors.Is(err, tt.want) {
				t.Errorf("ProcessPorts(%q) = %v, want %v", tt.id, err, tt.want)
			}
		})
	}
}
