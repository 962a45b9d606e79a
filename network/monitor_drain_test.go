package network

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// threePorts opens three listeners, waits a little, and exits.
const threePorts = `python3 -c 'import socket,time
ss = [socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1", 0)) or s.listen() for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss), flush=True)
time.sleep(0.4)'`

func startManaged(t *testing.T, command string) (*process.Manager, *process.Process) {
	t.Helper()
	m, err := process.NewManager(process.Config{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(time.Second) })
	p, err := m.Start(process.Spec{Command: command})
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

// Ports found while the process ran are posted even when the callback is
// slower than the process's whole life.
func TestMonitorDeliversAfterProcessEnds(t *testing.T) {
	var mu sync.Mutex
	var got []int
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev PortEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("callback body: %v", err)
		}
		time.Sleep(300 * time.Millisecond) // slower than the process lives
		mu.Lock()
		got = append(got, ev.Port)
		mu.Unlock()
	}))
	defer cb.Close()

	m, p := startManaged(t, threePorts)
	s := New(Config{Processes: m, PollInterval: 10 * time.Millisecond})
	defer s.Close()
	if _, err := s.StartMonitor(p.PID(), cb.URL); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Ints(got)
	if len(got) != 3 || got[0] == got[1] || got[1] == got[2] {
		t.Fatalf("callback got ports %v, want the three the process opened", got)
	}
}

// Close ends a monitor that is still delivering after its process ended.
func TestCloseStopsDrainingMonitor(t *testing.T) {
	hit := make(chan struct{}, 8)
	cancelled := make(chan struct{}, 8)
	release := make(chan struct{}) // lets cb.Close finish if the test fails
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body read to its end: only then does the server notice a
		// client that hangs up.
		_, _ = io.ReadAll(r.Body)
		hit <- struct{}{}
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-release:
		}
	}))
	defer cb.Close()
	defer close(release)

	m, p := startManaged(t, threePorts)
	s := New(Config{Processes: m, PollInterval: 10 * time.Millisecond, Client: &http.Client{Timeout: time.Minute}})
	if _, err := s.StartMonitor(p.PID(), cb.URL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hit:
	case <-time.After(15 * time.Second):
		t.Fatal("callback never called")
	}
	<-p.Done()
	time.Sleep(50 * time.Millisecond) // the monitor has seen the end and drains
	s.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the hanging callback request running")
	}
}
