package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// hangGuard bounds every wait in the tests: the tests' one policy,
// testsupport.HangGuard. It only turns a hang into a failure; no test
// asserts how fast something happens.
const hangGuard = testsupport.HangGuard

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// newTestManager is a manager on a fresh log folder, with a short restart
// delay, shut down when the test ends. Its stop grace is the hang guard, so
// that Stop and Kill wait for the end however slow the machine; tests of
// the escalation to SIGKILL set a short one.
func newTestManager(t testing.TB, mutate func(*Config)) *Manager {
	t.Helper()
	cfg := Config{
		LogDir:       t.TempDir(),
		Shell:        "/bin/sh",
		RestartDelay: 50 * time.Millisecond,
		StopGrace:    hangGuard,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() {
		m.Shutdown(5 * time.Second)
		// Shutdown waits only so long after its SIGKILL: the processes
		// must have ended before their log folder is removed.
		for _, p := range m.List() {
			testsupport.Receive(t, p.Done(), "process "+p.PID()+" to end after Shutdown")
		}
	})
	return m
}

func mustStart(t *testing.T, m *Manager, spec Spec) *Process {
	t.Helper()
	p, err := m.Start(spec)
	if err != nil {
		t.Fatalf("Start(%q): %v", spec.Command, err)
	}
	return p
}

// waitEnded waits for p to end and returns its record.
func waitEnded(t *testing.T, p *Process) Info {
	t.Helper()
	if err := p.Wait(testCtx(t), 0); err != nil {
		t.Fatalf("process %q did not end: %v (log: %q)", p.Info().Command, err, logText(t, p.Log(), Both))
	}
	return p.Info()
}

// logText is the retained output of the selected streams.
func logText(t *testing.T, l *Log, streams Stream) string {
	t.Helper()
	var b bytes.Buffer
	if err := l.Copy(context.Background(), &b, streams); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	return b.String()
}

// eventually polls cond until it holds, failing the test after hangGuard.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testsupport.Until(t, what, cond)
}

// pidAlive reports whether pid runs; a zombie counts as gone.
func pidAlive(pid int) bool {
	state, _, ok := readStat(pid, make([]byte, 512))
	return ok && state != 'Z'
}

// isZombie reports, when called, whether pid has exited and is not reaped.
func isZombie(pid int) func() bool {
	return func() bool {
		state, _, ok := readStat(pid, make([]byte, 512))
		return ok && state == 'Z'
	}
}

// readPIDFile waits for a shell to write "pid\n" to path.
func readPIDFile(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, "pid file "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

// waitSignaledBy asserts that the last attempt's leader was ended by sig.
func waitSignaledBy(t *testing.T, p *Process, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	st := p.att.status
	p.mu.Unlock()
	if st == nil {
		t.Fatalf("no process state")
	}
	ws := *st
	if !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("leader ended with %v (signaled %v), want signal %v", ws, ws.Signaled(), sig)
	}
}

// killGroupOnCleanup kills what is left of a process's group (background
// children that outlive the leader) when the test ends, and waits for the
// pipes to close so that no pump writes into the removed log folder.
func killGroupOnCleanup(t *testing.T, p *Process) {
	pgid, _ := strconv.Atoi(p.PID())
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		p.mu.Lock()
		drained := p.att.out.drained
		p.mu.Unlock()
		select {
		case <-drained:
		case <-time.After(hangGuard):
			t.Errorf("pipes of %s still open after its group was killed", p.PID())
		}
	})
}

// mkfifo makes a named pipe a shell can block on until the test writes.
func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	return path
}

func writeFIFO(t *testing.T, path, data string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until a reader opens it
		if err == nil {
			_, err = io.WriteString(f, data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write fifo: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("nobody opened fifo %s", path)
	}
}

// newTestLog is a Log in a fresh folder.
func newTestLog(t *testing.T, maxBytes int64) *Log {
	t.Helper()
	return newTestLogIn(t.TempDir(), maxBytes)
}

// newTestLogIn is a Log in dir (a small disk, say).
func newTestLogIn(dir string, maxBytes int64) *Log {
	var seq atomic.Uint64
	return newLog(dir, "p1", maxBytes, func() uint64 { return seq.Add(1) })
}

func mustAppend(t *testing.T, l *Log, s Stream, data string) {
	t.Helper()
	if _, err := l.Append(s, []byte(data)); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// chunk is a copy of a Chunk, comparable.
type chunk struct {
	Stream  Stream
	Data    string
	Dropped int64
}

func (c chunk) String() string {
	if c.Dropped > 0 {
		return fmt.Sprintf("dropped(%d)", c.Dropped)
	}
	return fmt.Sprintf("%v:%q", c.Stream, c.Data)
}

// readChunks reads r to io.EOF without following.
func readChunks(t *testing.T, r *Reader) []chunk {
	t.Helper()
	var out []chunk
	for {
		c, err := r.Next(context.Background(), false, 0)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, chunk{c.Stream, string(c.Data), c.Dropped})
	}
}

// logFiles lists the segment files of prefix in dir.
func logFiles(t *testing.T, dir, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, prefix+"-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// isWaiting reports whether a reader is blocked on the log.
func (l *Log) isWaiting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting
}

// currentPID is the OS pid of the attempt running now, 0 when none is
// (during a restart delay and after the end).
func (p *Process) currentPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.alive {
		return 0
	}
	return p.att.pid
}
