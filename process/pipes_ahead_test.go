package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"
)

// held is the set a holds, without taking it.
func (a *pipesAhead) held() *outputPipes {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.set
}

// pipeInode is the inode of the pipe f is an end of.
func pipeInode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// carries checks that what goes into each write end of set comes out of
// its read end.
func carries(t *testing.T, set *outputPipes) {
	t.Helper()
	for _, end := range []struct {
		w pipeWriteEnd
		r *os.File
	}{{set.outW, set.outR}, {set.errW, set.errR}} {
		if _, err := syscall.Write(end.w.fd, []byte("x")); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = end.r.SetReadDeadline(time.Now().Add(hangGuard))
		got := make([]byte, 1)
		if _, err := io.ReadFull(end.r, got); err != nil || got[0] != 'x' {
			t.Fatalf("read %q, %v; want x", got, err)
		}
	}
}

func TestPipesAhead(t *testing.T) {
	tests := []struct {
		name string
		// steps run on a fresh pipesAhead; each returns an error for what
		// it found wrong.
		steps func(t *testing.T, a *pipesAhead) error
	}{
		{"take with none made ahead makes a set", func(t *testing.T, a *pipesAhead) error {
			set, err := a.take()
			if err != nil {
				return err
			}
			defer set.close()
			carries(t, set)
			if a.held() != nil {
				return errors.New("a take kept a set")
			}
			return nil
		}},
		{"take hands over the set refill made", func(t *testing.T, a *pipesAhead) error {
			a.refill()
			made := a.held()
			if made == nil {
				return errors.New("refill kept no set")
			}
			set, err := a.take()
			if err != nil {
				return err
			}
			defer set.close()
			if set != made {
				return errors.New("take made a set instead of handing over the one made ahead")
			}
			if a.held() != nil {
				return errors.New("the set handed over is still held")
			}
			carries(t, set)
			return nil
		}},
		{"refill keeps one set", func(t *testing.T, a *pipesAhead) error {
			a.refill()
			first := a.held()
			a.refill()
			if a.held() != first {
				return errors.New("a second refill replaced the set")
			}
			a.close()
			return nil
		}},
		{"close closes the set and keeps none after", func(t *testing.T, a *pipesAhead) error {
			a.refill()
			made := a.held()
			a.close()
			if _, err := made.outR.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
				return fmt.Errorf("read of the held set after close: %v, want closed", err)
			}
			a.refill()
			if a.held() != nil {
				return errors.New("refill kept a set after close")
			}
			set, err := a.take()
			if err != nil {
				return fmt.Errorf("take after close: %w", err)
			}
			defer set.close()
			carries(t, set)
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &pipesAhead{}
			t.Cleanup(a.close)
			if err := tt.steps(t, a); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStartTakesPipesMadeAhead: once a process has started, the next
// start's pipes are made, and the next child writes into them; Shutdown
// closes the set held.
func TestStartTakesPipesMadeAhead(t *testing.T) {
	m := newTestManager(t, nil)
	if m.pipesAhead.held() != nil {
		t.Fatal("a manager that started nothing holds pipes")
	}
	mustStart(t, m, Spec{Command: "true"})
	eventually(t, "pipes made ahead after a start", func() bool { return m.pipesAhead.held() != nil })
	ahead := m.pipesAhead.held()
	want := fmt.Sprintf("pipe:[%d]", pipeInode(t, ahead.outW.fd))
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	killGroupOnCleanup(t, p)
	if got, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/1", p.OSPID())); err != nil || got != want {
		t.Fatalf("the child's stdout is %q (%v), want the pipe made ahead %s", got, err, want)
	}
	eventually(t, "the next set made ahead", func() bool {
		next := m.pipesAhead.held()
		return next != nil && next != ahead
	})
	next := m.pipesAhead.held()
	m.Shutdown(hangGuard)
	if m.pipesAhead.held() != nil {
		t.Fatal("Shutdown left a set held")
	}
	if _, err := next.outR.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read of the set held at Shutdown: %v, want closed", err)
	}
}

// openFDCount is the number of descriptors this test process has open.
func openFDCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestPipesAheadConcurrentLeavesNothing: starts and refills racing each
// other hand out distinct sets, never hold more than one, and once closed
// leave no descriptor behind.
func TestPipesAheadConcurrentLeavesNothing(t *testing.T) {
	before := openFDCount(t)
	a := &pipesAhead{}
	const workers = 16
	var wg sync.WaitGroup
	sets := make(chan *outputPipes, workers*4)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				a.refill()
				set, err := a.take()
				if err != nil {
					t.Error(err)
					return
				}
				sets <- set
			}
		}()
	}
	wg.Wait()
	close(sets)
	seen := map[*outputPipes]bool{}
	for set := range sets {
		if seen[set] {
			t.Fatal("one set handed to two starts")
		}
		seen[set] = true
		set.close()
	}
	a.close()
	// Fewer is no leak: an earlier test's process may close its own meanwhile.
	if after := openFDCount(t); after > before {
		t.Fatalf("%d descriptors open after, %d before", after, before)
	}
}

// TestPipesAheadCloseWaitsForARefill: once close returns, no refill under
// way is still making (and holding) a set.
func TestPipesAheadCloseWaitsForARefill(t *testing.T) {
	a := &pipesAhead{}
	refilling := make(chan struct{})
	a.making = refilling // a refill between its making and its end
	returned := make(chan struct{})
	go func() {
		a.close()
		close(returned)
	}()
	eventually(t, "close to mark the set closed", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.closed
	})
	for range 100 {
		runtime.Gosched() // let a close that does not wait return
	}
	select {
	case <-returned:
		t.Fatal("close returned while a refill was still making its set")
	default:
	}
	a.mu.Lock()
	a.making = nil // as the refill ends: its set closed, then done
	a.mu.Unlock()
	close(refilling)
	select {
	case <-returned:
	case <-time.After(hangGuard):
		t.Fatalf("close still waits %s after the refill ended", hangGuard)
	}
	a.refill() // after close: makes nothing
	if a.set != nil || a.making != nil {
		t.Fatal("a refill after close made a set")
	}
}

// A start whose fork or exec fails leaves nothing running or open: no
// pump, no output registered, no descriptor (the set it took is closed).
func TestFailedStartLeavesNoPumpOrDescriptor(t *testing.T) {
	// A file dropped unclosed is closed by its finalizer at some collection,
	// which would hide the leak: no collection while this runs.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	m := newTestManager(t, func(c *Config) { c.Shell = filepath.Join(t.TempDir(), "no-such-shell") })
	m.pipesAhead.refill() // counted in before; the first start takes it
	before := openFDCount(t)
	for range 5 { // a descriptor left by each would show above before
		if _, err := m.Start(Spec{Command: "true"}); !errors.Is(err, ErrStart) {
			t.Fatalf("Start with a missing shell = %v, want ErrStart", err)
		}
	}
	eventually(t, "no output of the failed starts left", func() bool { return len(m.liveOutputs()) == 0 })
	eventually(t, "the descriptors to be back to at most their count before the starts", func() bool { return openFDCount(t) <= before })
	if n := len(m.List()); n != 0 {
		t.Fatalf("%d records after failed starts", n)
	}
}
