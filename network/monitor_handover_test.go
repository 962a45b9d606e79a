package network

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/process"
)

// The tests of this file play both images of the daemon in one process:
// Resume with the same process manager is what the next image does after
// the exec, once the process manager has resumed its processes.

// portSteps opens one more listener each time the file $STEPS/<n> appears
// (n = 1, 2, ...), writes its port to $STEPS/port<n>, and exits once
// $STEPS/release exists: the test decides when each port opens.
const portSteps = `python3 -c 'import os,socket,time
d = os.environ["STEPS"]; held = []; n = 1
while not os.path.exists(os.path.join(d, "release")):
    if os.path.exists(os.path.join(d, str(n))):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); held.append(s)
        tmp = os.path.join(d, "tmp")
        with open(tmp, "w") as f: f.write(str(s.getsockname()[1]))
        os.rename(tmp, os.path.join(d, "port%d" % n)); n += 1
    time.sleep(0.01)'`

// stepper is portSteps run by a process manager.
type stepper struct {
	m     *process.Manager
	p     *process.Process
	steps string
}

func startStepper(t *testing.T) *stepper {
	t.Helper()
	m, err := process.NewManager(process.Config{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(time.Second) })
	st := &stepper{m: m, steps: t.TempDir()}
	st.p, err = m.Start(process.Spec{Command: portSteps, Env: map[string]string{"STEPS": st.steps}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// open makes the process open its n-th port and returns it once it listens.
func (st *stepper) open(t *testing.T, n int) int {
	t.Helper()
	touch(t, filepath.Join(st.steps, strconv.Itoa(n)))
	var port int
	testsupport.Until(t, "port "+strconv.Itoa(n)+" to listen", func() bool {
		b, err := os.ReadFile(filepath.Join(st.steps, "port"+strconv.Itoa(n)))
		if err != nil {
			return false
		}
		port, err = strconv.Atoi(string(b))
		return err == nil
	})
	return port
}

// end lets the process exit and waits for its end.
func (st *stepper) end(t *testing.T) {
	t.Helper()
	touch(t, filepath.Join(st.steps, "release"))
	testsupport.Receive(t, st.p.Done(), "the process to end")
}

// callback records the ports posted to it; answer decides each answer
// (nil: 204), from the port and the attempts at it so far, this one
// included.
type callback struct {
	*httptest.Server
	mu     sync.Mutex
	got    []int       // ports delivered (answered 2xx), in order
	hits   map[int]int // attempts per port
	answer func(r *http.Request, port, attempt int) int
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	cb := &callback{hits: map[int]int{}}
	cb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev PortEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("callback body: %v", err)
		}
		cb.mu.Lock()
		cb.hits[ev.Port]++
		attempt, answer := cb.hits[ev.Port], cb.answer
		cb.mu.Unlock()
		status := http.StatusNoContent
		if answer != nil {
			status = answer(r, ev.Port, attempt)
		}
		if status < 300 {
			cb.mu.Lock()
			cb.got = append(cb.got, ev.Port)
			cb.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(cb.Close)
	return cb
}

// setAnswer changes how the callback answers from now on.
func (cb *callback) setAnswer(answer func(r *http.Request, port, attempt int) int) {
	cb.mu.Lock()
	cb.answer = answer
	cb.mu.Unlock()
}

// waitFor waits until port has been delivered.
func (cb *callback) waitFor(t *testing.T, port int) {
	t.Helper()
	testsupport.Until(t, "port "+strconv.Itoa(port)+" delivered", func() bool {
		cb.mu.Lock()
		defer cb.mu.Unlock()
		for _, p := range cb.got {
			if p == port {
				return true
			}
		}
		return false
	})
}

func (cb *callback) delivered() []int {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([]int(nil), cb.got...)
}

func (cb *callback) hitsOf(port int) int {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.hits[port]
}

// monitored is a service monitoring st's process, posting to cb.
func monitored(t *testing.T, st *stepper, cb *callback) (*Service, Config) {
	t.Helper()
	cfg := Config{Processes: st.m, PollInterval: 10 * time.Millisecond, Client: &http.Client{Timeout: testsupport.HangGuard}}
	s := New(cfg)
	t.Cleanup(s.Close)
	if _, err := s.StartMonitor(st.p.PID(), cb.URL); err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// resume is the next image: a Service rebuilt from f.
func resume(t *testing.T, cfg Config, f handover.Frozen) *Service {
	t.Helper()
	s, err := Resume(cfg, f)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func decodeMonitors(t *testing.T, f handover.Frozen) frozenMonitors {
	t.Helper()
	var st frozenMonitors
	if err := json.Unmarshal(f.State, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Monitors) != 1 {
		t.Fatalf("state %s, want one monitor", f.State)
	}
	return st
}

// A port open before the switch is not sent again; one opened during it is
// sent after Resume, to the same callback.
func TestHandoverSendsOnlyNewPorts(t *testing.T) {
	cb := newCallback(t)
	st := startStepper(t)
	old, cfg := monitored(t, st, cb)
	p1 := st.open(t, 1)
	cb.waitFor(t, p1)

	f, err := old.Freeze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fm := decodeMonitors(t, f).Monitors[0]; fm.PID != st.p.PID() || fm.Callback != cb.URL || len(fm.Pending) != 0 || fm.DrainLeft != nil {
		t.Fatalf("frozen monitor %+v, want pid %s, callback %s, nothing pending", fm, st.p.PID(), cb.URL)
	}
	p2 := st.open(t, 2) // during the switch

	next := resume(t, cfg, f)
	cb.waitFor(t, p2)
	p3 := st.open(t, 3) // the sentinel: p1 would have come before it
	cb.waitFor(t, p3)
	if got, want := cb.delivered(), []int{p1, p2, p3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("callback got ports %v, want %v", got, want)
	}
	if _, stopped, err := next.StopMonitor(st.p.PID()); err != nil || !stopped {
		t.Fatalf("StopMonitor of the resumed monitor: stopped %v, %v", stopped, err)
	}
}

// A delivery under way at Freeze is cut (Freeze's ctx ended) and made
// again after Resume, with the attempts already failed counted: the
// callback gets at most callbackAttempts failed answers in all.
func TestHandoverCarriesPendingDeliveryAndItsAttempts(t *testing.T) {
	cb := newCallback(t)
	hanging := make(chan struct{}, 1)
	cb.setAnswer(func(r *http.Request, port, attempt int) int {
		if attempt == 1 {
			return http.StatusInternalServerError
		}
		hanging <- struct{}{}
		<-r.Context().Done() // until Freeze cuts it
		return http.StatusServiceUnavailable
	})
	st := startStepper(t)
	old, cfg := monitored(t, st, cb)
	p1 := st.open(t, 1)
	testsupport.Receive(t, hanging, "the second attempt at port 1")

	cut, cancel := context.WithCancel(context.Background())
	cancel() // Freeze waits for no attempt
	f, err := old.Freeze(cut)
	if err != nil {
		t.Fatal(err)
	}
	fm := decodeMonitors(t, f).Monitors[0]
	if len(fm.Pending) != 1 || fm.Pending[0].Event.Port != p1 || fm.Pending[0].Attempts != 1 {
		t.Fatalf("pending %+v, want port %d with the one attempt that failed", fm.Pending, p1)
	}

	// After the switch port 1 fails on: two attempts are left to it. Port 2
	// is delivered, after port 1's attempts are over.
	hitsBefore := cb.hitsOf(p1)
	cb.setAnswer(func(r *http.Request, port, attempt int) int {
		if port == p1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	resume(t, cfg, f)
	p2 := st.open(t, 2)
	cb.waitFor(t, p2)
	if n := cb.hitsOf(p1) - hitsBefore; n != callbackAttempts-1 {
		t.Fatalf("port %d attempted %d times after the switch, want %d (one attempt failed before it)", p1, n, callbackAttempts-1)
	}
	if got := cb.delivered(); !reflect.DeepEqual(got, []int{p2}) {
		t.Fatalf("callback got ports %v, want only %d", got, p2)
	}
}

// A monitor whose process has ended, with a delivery not made yet, is
// handed over with the time left to deliver it, and delivers it.
func TestHandoverOfADrainingMonitor(t *testing.T) {
	cb := newCallback(t)
	hanging := make(chan struct{}, 1)
	cb.setAnswer(func(r *http.Request, port, attempt int) int {
		hanging <- struct{}{}
		<-r.Context().Done()
		return http.StatusServiceUnavailable
	})
	st := startStepper(t)
	old, cfg := monitored(t, st, cb)
	p1 := st.open(t, 1)
	testsupport.Receive(t, hanging, "the first attempt at port 1")
	st.end(t)
	testsupport.Until(t, "the monitor to see the process end", func() bool { return monitorOf(old, st.p) == nil })

	cut, cancel := context.WithCancel(context.Background())
	cancel()
	f, err := old.Freeze(cut)
	if err != nil {
		t.Fatal(err)
	}
	fm := decodeMonitors(t, f).Monitors[0]
	if fm.DrainLeft == nil || *fm.DrainLeft <= 0 || *fm.DrainLeft > drainMax || len(fm.Pending) != 1 || fm.Pending[0].Attempts != 0 {
		t.Fatalf("frozen monitor %+v, want port %d pending, with some of %s left", fm, p1, drainMax)
	}
	cb.setAnswer(nil)
	resume(t, cfg, f)
	cb.waitFor(t, p1)
}

// Thaw goes on as before: a port opened while frozen is sent, the ones
// sent before are not. While frozen, monitors can be neither started nor
// stopped.
func TestMonitorThawGoesOnAsBefore(t *testing.T) {
	cb := newCallback(t)
	st := startStepper(t)
	s, _ := monitored(t, st, cb)
	p1 := st.open(t, 1)
	cb.waitFor(t, p1)
	if _, err := s.Freeze(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartMonitor(st.p.PID(), cb.URL); !errors.Is(err, ErrFrozen) {
		t.Fatalf("StartMonitor while frozen: %v, want ErrFrozen", err)
	}
	if _, _, err := s.StopMonitor(st.p.PID()); !errors.Is(err, ErrFrozen) {
		t.Fatalf("StopMonitor while frozen: %v, want ErrFrozen", err)
	}
	p2 := st.open(t, 2)
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, p2)
	p3 := st.open(t, 3)
	cb.waitFor(t, p3)
	if got, want := cb.delivered(), []int{p1, p2, p3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("callback got ports %v, want %v", got, want)
	}
}

// Resume refuses a state it cannot read.
func TestMonitorResumeRefusesABadState(t *testing.T) {
	for _, state := range []string{`{`, `{"version": 99, "monitors": []}`} {
		if _, err := Resume(Config{}, handover.Frozen{State: json.RawMessage(state)}); err == nil {
			t.Errorf("Resume accepted %s", state)
		}
	}
}
