package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestReadStat(t *testing.T) {
	buf := make([]byte, 512)
	state, ppid, ok := readStat(os.Getpid(), buf)
	if !ok || ppid != os.Getppid() || (state != 'R' && state != 'S') {
		t.Fatalf("readStat(self) = %c, %d, %v; want R or S, %d", state, ppid, ok, os.Getppid())
	}
	if _, _, ok := readStat(-1, buf); ok {
		t.Fatal("readStat of no process succeeded")
	}
	// The command name may hold spaces and parentheses.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	odd := filepath.Join(t.TempDir(), "a) b (c")
	if err := os.Symlink(sleep, odd); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	state, ppid, ok = readStat(cmd.Process.Pid, buf)
	if !ok || ppid != os.Getpid() || state == 'Z' {
		t.Fatalf("readStat(%q) = %c, %d, %v; want a live child of %d", odd, state, ppid, ok, os.Getpid())
	}
}

func TestReaperBookkeeping(t *testing.T) {
	r := newReaper()
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := r.start(cmd); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if !r.isManaged(pid) {
		t.Fatal("a started command is not registered")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	r.waited(pid)
	if r.isManaged(pid) {
		t.Fatal("a waited command is still registered")
	}
	if err := r.start(exec.Command("/nonexistent/binary")); err == nil {
		t.Fatal("start of a missing binary succeeded")
	}
	r.close() // never ran: a no-op
}

// TestReapOrphansSparesManagedChildren runs one reaper pass by hand: the
// zombie of a managed child is left to cmd.Wait, with its exit status; an
// unmanaged zombie child is reaped.
func TestReapOrphansSparesManagedChildren(t *testing.T) {
	r := newReaper()
	managed := exec.Command("/bin/sh", "-c", "exit 3")
	if err := r.start(managed); err != nil {
		t.Fatal(err)
	}
	stray := exec.Command("/bin/sh", "-c", "exit 4")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the managed child to exit", isZombie(managed.Process.Pid))
	eventually(t, "the stray child to exit", isZombie(stray.Process.Pid))

	r.reapOrphans()
	if !isZombie(managed.Process.Pid)() {
		t.Fatal("the reaper took the zombie of a managed child")
	}
	if _, _, ok := readStat(stray.Process.Pid, make([]byte, 512)); ok {
		t.Fatal("the unmanaged zombie was not reaped")
	}
	err := managed.Wait()
	r.waited(managed.Process.Pid)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("managed child: Wait = %v, want exit status 3", err)
	}
	if err := stray.Wait(); err == nil {
		t.Fatal("the stray child's status was still there after the reaper took it")
	}
}

// TestScanWaitsForAStartInFlight: a child the scan finds unmanaged may be
// a start between fork and registration. The scan decides about it only
// once no start is in flight, so it neither counts such a child as an
// orphan alive (SIGCHLD would be watched for nothing) nor reaps one that
// already exited (its status is the supervisor's), while an unmanaged child
// still counts and an unmanaged zombie is still reaped.
func TestScanWaitsForAStartInFlight(t *testing.T) {
	r := newReaper()
	child := func(script string) *exec.Cmd {
		cmd := exec.Command("/bin/sh", "-c", script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	stray := child("exec sleep 600")
	strayZombie := child("exit 4")

	r.starting.Add(1) // a start, forked and not registered yet
	starting := child("exec sleep 600")
	startingEnded := child("exit 3") // its child exited before registration
	eventually(t, "the stray child to exit", isZombie(strayZombie.Process.Pid))
	eventually(t, "the starting child to exit", isZombie(startingEnded.Process.Pid))
	scanned := make(chan []int, 1)
	go func() { scanned <- r.reapOrphans() }()
	eventually(t, "the scan to wait for the start in flight", func() bool { return r.waits.Load() > 0 })
	r.idsMu.Lock() // registered, as start does before it stops counting itself
	r.managed[starting.Process.Pid]++
	r.managed[startingEnded.Process.Pid]++
	r.idsMu.Unlock()
	r.starting.Add(-1)
	alive := <-scanned

	if slices.Contains(alive, starting.Process.Pid) {
		t.Errorf("the scan counted a child on its way to registration as unmanaged: %v", alive)
	}
	if !slices.Contains(alive, stray.Process.Pid) {
		t.Errorf("the scan missed an unmanaged child that is alive (%d): %v", stray.Process.Pid, alive)
	}
	if !isZombie(startingEnded.Process.Pid)() {
		t.Fatal("the scan reaped a child on its way to registration")
	}
	var ee *exec.ExitError
	if err := startingEnded.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("the started child's status: Wait = %v, want exit status 3", err)
	}
	if _, _, ok := readStat(strayZombie.Process.Pid, make([]byte, 512)); ok {
		t.Fatal("the unmanaged zombie was not reaped")
	}
}

// TestScanHoldsUpNoStart: a scan waiting for a start in flight (one whose
// exec hangs, say) lets every other start through.
func TestScanHoldsUpNoStart(t *testing.T) {
	r := newReaper()
	stray := exec.Command("/bin/sh", "-c", "exec sleep 600") // a candidate, so the scan waits
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stray.Process.Kill(); _ = stray.Wait() })
	r.stop = make(chan struct{}) // lets the waiting scan be ended
	r.starting.Add(1)            // a start that does not end
	scanned := make(chan []int, 1)
	go func() { scanned <- r.reapOrphans() }()
	eventually(t, "the scan to wait for the start in flight", func() bool { return r.waits.Load() > 0 })
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	started := make(chan error, 1)
	go func() { started <- r.start(cmd) }()
	var err error
	eventually(t, "a start while the scan waits", func() bool {
		select {
		case err = <-started:
			return true
		default:
			return false
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	r.waited(cmd.Process.Pid)
	close(r.stop)
	if alive := <-scanned; alive != nil {
		t.Fatalf("a scan stopped while waiting decided about %v", alive)
	}
}

const prGetChildSubreaper = 37

func isSubreaper(t *testing.T) bool {
	var v int32
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetChildSubreaper, uintptr(unsafe.Pointer(&v)), 0); errno != 0 {
		t.Fatalf("PR_GET_CHILD_SUBREAPER: %v", errno)
	}
	return v != 0
}

// zombieChildren lists the test process's children that are zombies, and
// how many children it has.
func zombieChildren() (zombies []int, children int) {
	buf := make([]byte, 0, 512)
	pids := newReaper().children(buf)
	for _, pid := range pids {
		if s, _, ok := readStat(pid, buf); ok && s == 'Z' {
			zombies = append(zombies, pid)
		}
	}
	return zombies, len(pids)
}

// TestReaperSubreaper makes the test process a child subreaper, so it runs
// once, and not in parallel with tests that start processes: the reaper
// reaps every unmanaged zombie child of the test process. It checks that
// orphans are reaped, and that reaping never steals the exit status of a
// managed process, with many managed processes ending while orphans die.
func TestReaperSubreaper(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.Reap = true })
	if !isSubreaper(t) {
		t.Fatal("Reap did not make the process a child subreaper")
	}
	if zombies, _ := zombieChildren(); len(zombies) > 0 {
		t.Fatalf("setup: zombie children already: %v", zombies)
	}

	// An orphan is reparented to us, and reaped when it dies.
	fifo := mkfifo(t)
	pidfile := filepath.Join(t.TempDir(), "orphan.pid")
	p := mustStart(t, m, Spec{
		Command: `sh -c 'read x < "$FIFO"' & echo $! > "$PIDFILE"; exit 7`,
		Env:     map[string]string{"FIFO": fifo, "PIDFILE": pidfile},
	})
	killGroupOnCleanup(t, p)
	info := waitEnded(t, p)
	if info.Status != StatusFailed || info.ExitCode != 7 {
		t.Fatalf("status %s, exit %d; want failed, 7", info.Status, info.ExitCode)
	}
	orphan := readPIDFile(t, pidfile)
	buf := make([]byte, 512)
	eventually(t, "the orphan to be reparented to the test process", func() bool {
		_, ppid, ok := readStat(orphan, buf)
		return ok && ppid == os.Getpid()
	})
	// The scan that follows the managed process's end finds the orphan
	// alive: its end is a SIGCHLD to watch.
	eventually(t, "SIGCHLD to be watched while the orphan lives", m.reaper.watching.Load)
	if !sigchldCaught(t) {
		t.Fatal("SIGCHLD is watched but not caught: the runtime's handler was not put back before signal.Notify")
	}
	writeFIFO(t, fifo, "go\n")
	eventually(t, "the orphan to be reaped", func() bool {
		_, _, ok := readStat(orphan, buf)
		return !ok
	})
	eventually(t, "SIGCHLD to be no longer watched once no orphan lives", func() bool { return !m.reaper.watching.Load() })
	if sigchldCaught(t) {
		t.Fatal("SIGCHLD is no longer watched but still caught: each child's end wakes a thread")
	}

	// An orphan whose parent, not a managed process, ended while its
	// managed ancestor runs: nothing the daemon watches says so, and its end
	// is no SIGCHLD the reaper listens to. The slow scan finds it.
	m.reaper.slowScan.Store(int64(100 * time.Millisecond))
	scans := m.reaper.scans.Load()
	m.reaper.scanSoon() // a scan that sets the slow one with the short period
	eventually(t, "a scan", func() bool { return m.reaper.scans.Load() > scans })
	inner, outer := mkfifo(t), mkfifo(t)
	pidfile2 := filepath.Join(t.TempDir(), "grandchild.pid")
	ancestor := mustStart(t, m, Spec{
		Command: `(sh -c 'read x < "$INNER"' & echo $! > "$PIDFILE") ; read y < "$OUTER"`,
		Env:     map[string]string{"INNER": inner, "OUTER": outer, "PIDFILE": pidfile2},
	})
	killGroupOnCleanup(t, ancestor)
	grandchild := readPIDFile(t, pidfile2)
	eventually(t, "the grandchild to be reparented to the test process", func() bool {
		_, ppid, ok := readStat(grandchild, buf)
		return ok && ppid == os.Getpid()
	})
	writeFIFO(t, inner, "go\n")
	eventually(t, "the reparented grandchild to be reaped while its managed ancestor runs", func() bool {
		_, _, ok := readStat(grandchild, buf)
		return !ok
	})
	if info := ancestor.Info(); info.Status != StatusRunning {
		t.Fatalf("the managed ancestor is %s, want running (the reap must not have waited for its end)", info.Status)
	}
	writeFIFO(t, outer, "go\n")
	waitEnded(t, ancestor)

	// Many managed processes with known exit codes, each leaving orphans
	// that die meanwhile: every code must come through cmd.Wait intact.
	const n, workers = 200, 16
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				code := i % 256
				p, err := m.Start(Spec{Command: fmt.Sprintf("(sleep 0.05 &); (true &); exit %d", code)})
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("start %d: %v", i, err))
					mu.Unlock()
					continue
				}
				err = p.Wait(testCtx(t), 0)
				info := p.Info()
				want := StatusFailed
				if code == 0 {
					want = StatusCompleted
				}
				if err != nil || info.ExitCode != code || info.Status != want {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("process %d: %v, status %s, exit %d; want %s, %d", i, err, info.Status, info.ExitCode, want, code))
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	// Once the orphans have died, nothing is left: no zombie, no child.
	eventually(t, "every orphan to be reaped", func() bool {
		_, children := zombieChildren()
		return children == 0
	})
}

// A child the manager does not manage (a terminal shell), announced by
// ChildStarted, is watched like an orphan: the orphan it leaves behind is
// reaped when it ends, though no managed process ends to prompt a scan.
func TestReaperWatchesAChildItDoesNotManage(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.Reap = true })
	// The scan the reaper makes as it starts is over: only ChildStarted can
	// make it see the shell.
	eventually(t, "the reaper's first scan", func() bool { return m.reaper.scans.Load() > 0 })
	if m.reaper.watching.Load() {
		t.Fatal("setup: SIGCHLD watched with no child the manager does not manage")
	}
	inner, outer := mkfifo(t), mkfifo(t)
	pidfile := filepath.Join(t.TempDir(), "orphan.pid")
	shell := exec.Command("/bin/sh", "-c", `(sh -c 'read x < "$INNER"' & echo $! > "$PIDFILE") ; read y < "$OUTER"`)
	shell.Env = append(os.Environ(), "INNER="+inner, "OUTER="+outer, "PIDFILE="+pidfile)
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shell.Process.Kill() }) // the reaper reaps it
	m.ChildStarted()
	eventually(t, "SIGCHLD to be watched while the shell lives", m.reaper.watching.Load)

	orphan := readPIDFile(t, pidfile)
	buf := make([]byte, 512)
	eventually(t, "the shell's child to be reparented to the test process", func() bool {
		_, ppid, ok := readStat(orphan, buf)
		return ok && ppid == os.Getpid()
	})
	writeFIFO(t, outer, "go\n") // the shell ends: watched while its orphan lives
	writeFIFO(t, inner, "go\n")
	eventually(t, "the shell's orphan to be reaped after its end", func() bool {
		_, _, ok := readStat(orphan, buf)
		return !ok
	})
}
