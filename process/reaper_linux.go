package process

import (
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36

// orphanScanDelay spaces out the scans for orphaned zombies: see run.
const orphanScanDelay = 50 * time.Millisecond

// reaper reaps orphaned descendants (the daemon is a child subreaper, and
// often PID 1) without ever taking the exit status of a process that
// os/exec is waiting for. A blind wait(-1) would race cmd.Wait; instead the
// reaper looks at /proc for zombie children and reaps only those it does not
// manage. Starts hold the read side of mu from fork until the new pid is
// registered, so the reaper never sees a managed pid it does not know yet.
type reaper struct {
	kick      chan struct{} // a scan without a SIGCHLD (scanSoon)
	mu        sync.RWMutex
	managed   map[int]int // pid → starts not yet waited for; guarded by idsMu
	idsMu     sync.Mutex
	self      int
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newReaper() *reaper {
	return &reaper{managed: map[int]int{}, self: os.Getpid(), kick: make(chan struct{}, 1)}
}

// adopt registers pid, a child started by an earlier image of the daemon
// that a supervisor of this one waits for, before the reaper runs.
func (r *reaper) adopt(pid int) {
	r.idsMu.Lock()
	r.managed[pid]++
	r.idsMu.Unlock()
}

// scanSoon asks for a scan as a SIGCHLD would: after an exec, the SIGCHLDs
// of orphans that ended during it were never seen.
func (r *reaper) scanSoon() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// start runs cmd.Start so that the reaper leaves the child to cmd.Wait.
func (r *reaper) start(cmd *exec.Cmd) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	r.idsMu.Lock()
	r.managed[cmd.Process.Pid]++
	r.idsMu.Unlock()
	return nil
}

// waited is called after cmd.Wait has reaped pid.
func (r *reaper) waited(pid int) {
	// A count, not a flag: a new start may reuse pid before the waiter of
	// the old one gets here, and must stay registered.
	r.idsMu.Lock()
	if r.managed[pid]--; r.managed[pid] <= 0 {
		delete(r.managed, pid)
	}
	r.idsMu.Unlock()
}

// run makes the daemon a child subreaper and reaps orphans on every SIGCHLD.
func (r *reaper) run() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		// Registered here, not before run returns: watching a signal is a
		// round trip to the runtime's signal thread, behind the daemon's
		// other signals, that its start need not wait for. An orphan that
		// ends before it is reaped by the scan that follows.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGCHLD)
		defer signal.Stop(sigs)
		// Most SIGCHLDs are managed children, which cmd.Wait reaps; a scan
		// reads /proc once per thread of the daemon. So scans follow a
		// SIGCHLD by orphanScanDelay: a burst of exits costs one scan, off
		// the path of the requests waiting for them, and an orphan stays a
		// zombie (no memory, no CPU) for that long at most.
		scan := time.NewTimer(orphanScanDelay)
		pending := true // the scan after registering
		for {
			select {
			case <-sigs:
				if !pending {
					scan.Reset(orphanScanDelay)
					pending = true
				}
			case <-r.kick:
				if !pending {
					scan.Reset(orphanScanDelay)
					pending = true
				}
			case <-scan.C:
				pending = false
				r.reapOrphans()
			case <-r.stop:
				scan.Stop()
				return
			}
		}
	}()
	return nil
}

// close stops reaping; calling it again does nothing.
func (r *reaper) close() {
	r.closeOnce.Do(func() {
		if r.stop != nil {
			close(r.stop)
			<-r.done
		}
	})
}

// reapOrphans reaps every zombie child of the daemon that it does not
// manage. The scan runs unlocked so starts are not held up on the common
// path (a managed child exiting); only a candidate is checked again under
// the write lock, when no start can be between fork and registration.
func (r *reaper) reapOrphans() int {
	buf := make([]byte, 512)
	var candidates []int
	for _, pid := range r.children() {
		if state, ppid, ok := readStat(pid, buf); ok && state == 'Z' && ppid == r.self && !r.isManaged(pid) {
			candidates = append(candidates, pid)
		}
	}
	if len(candidates) == 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	reaped := 0
	for _, pid := range candidates {
		if state, ppid, ok := readStat(pid, buf); !ok || state != 'Z' || ppid != r.self || r.isManaged(pid) {
			continue
		}
		var ws syscall.WaitStatus
		if got, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); got == pid {
			reaped++
		}
	}
	return reaped
}

func (r *reaper) isManaged(pid int) bool {
	r.idsMu.Lock()
	defer r.idsMu.Unlock()
	_, ok := r.managed[pid]
	return ok
}

// children lists the daemon's child pids from /proc/self/task/*/children,
// or from a scan of all of /proc where the kernel lacks those files.
func (r *reaper) children() []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err == nil {
		var out []int
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
			if err != nil {
				if os.IsNotExist(err) {
					return allPIDs()
				}
				continue // the thread ended meanwhile
			}
			for _, f := range bytes.Fields(b) {
				if pid, err := strconv.Atoi(string(f)); err == nil {
					out = append(out, pid)
				}
			}
		}
		return out
	}
	return allPIDs()
}

func allPIDs() []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	out := make([]int, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// readStat reads the state and parent pid from /proc/pid/stat. The command
// name may hold spaces and parentheses, so parsing starts after the last ')'.
func readStat(pid int, buf []byte) (state byte, ppid int, ok bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	n, _ := f.Read(buf)
	f.Close()
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+2:])
	if len(fields) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return fields[0][0], ppid, err == nil
}
