package network

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/process"
)

// threePorts opens three listeners once the file $OPEN exists (ports open
// before the monitor starts are not reported), prints their ports, and
// exits once the file $RELEASE exists: the test decides when each happens.
const threePorts = `python3 -c 'import os,socket,time
while not os.path.exists(os.environ["OPEN"]): time.sleep(0.01)
ss = [socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1", 0)) or s.listen() for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss), flush=True)
while not os.path.exists(os.environ["RELEASE"]): time.sleep(0.01)'`

// managed is threePorts run by a process manager.
type managed struct {
	m             *process.Manager
	p             *process.Process
	open, release string
}

func startManaged(t *testing.T) *managed {
	t.Helper()
	m, err := process.NewManager(process.Config{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(time.Second) })
	dir := t.TempDir()
	mp := &managed{m: m, open: filepath.Join(dir, "open"), release: filepath.Join(dir, "release")}
	mp.p, err = m.Start(process.Spec{Command: threePorts, Env: map[string]string{"OPEN": mp.open, "RELEASE": mp.release}})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// touch creates the file a step of threePorts waits for.
func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// end lets the process exit and waits for its end.
func (mp *managed) end(t *testing.T) {
	t.Helper()
	touch(t, mp.release)
	testsupport.Receive(t, mp.p.Done(), "the process to end")
}

// monitorOf is the running monitor of p, nil once it ended.
func monitorOf(s *Service, p *process.Process) *monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.monitors[p.PID()]
}

// Ports found while the process ran are posted even when the callback is
// slower than the process's whole life: the first post is held until the
// process ended, while the two other ports wait in the queue.
func TestMonitorDeliversAfterProcessEnds(t *testing.T) {
	var mu sync.Mutex
	var got []int
	ended := make(chan struct{})
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev PortEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("callback body: %v", err)
		}
		mu.Lock()
		got = append(got, ev.Port)
		mu.Unlock()
		select { // slower than the process lives
		case <-ended:
		case <-r.Context().Done():
		}
	}))
	defer cb.Close()

	mp := startManaged(t)
	// The client waits as long as the callback takes: no retry doubles a port.
	s := New(Config{Processes: mp.m, PollInterval: 10 * time.Millisecond, Client: &http.Client{Timeout: testsupport.HangGuard}})
	defer s.Close()
	if _, err := s.StartMonitor(mp.p.PID(), cb.URL); err != nil {
		t.Fatal(err)
	}
	mon := monitorOf(s, mp.p)
	touch(t, mp.open)
	testsupport.Until(t, "the three ports found while the process runs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1 && len(mon.events) == 2
	})
	mp.end(t)
	close(ended)
	testsupport.Until(t, "the three ports posted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 3
	})
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

	mp := startManaged(t)
	s := New(Config{Processes: mp.m, PollInterval: 10 * time.Millisecond, Client: &http.Client{Timeout: testsupport.HangGuard}})
	if _, err := s.StartMonitor(mp.p.PID(), cb.URL); err != nil {
		t.Fatal(err)
	}
	touch(t, mp.open)
	testsupport.Receive(t, hit, "the callback to be called")
	mp.end(t)
	// The monitor has seen the end and drains: its poller is gone.
	testsupport.Until(t, "the monitor to see the end", func() bool { return monitorOf(s, mp.p) == nil })
	s.Close()
	testsupport.Receive(t, cancelled, "Close to end the hanging callback request")
}
