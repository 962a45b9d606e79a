package process

import (
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/coalesce"
	"github.com/sandbox-api/sandbox-api/internal/procfile"
)

const prSetChildSubreaper = 36

// orphanScanDelay spaces out the scans for orphaned zombies: see run.
const orphanScanDelay = 50 * time.Millisecond

// orphanSlowScan is how often the reaper looks for orphans while managed
// processes run and it watches no SIGCHLD (see run).
const orphanSlowScan = 5 * time.Second

// reaper reaps orphaned descendants (the daemon is a child subreaper, and
// often PID 1) without ever taking the exit status of a process that
// os/exec is waiting for. A blind wait(-1) would race cmd.Wait; instead the
// reaper looks at /proc for zombie children and reaps only those it does not
// manage. A start counts itself in starting from before its fork until
// the new pid is registered, and the reaper decides about a child it does
// not know only while no start is in flight (see reapOrphans), so it never
// takes a managed pid it does not know yet for an orphan. It never makes a
// start wait: a start whose exec hangs (a binary on a stalled mount) holds
// up nothing but itself.
type reaper struct {
	kick      chan struct{}   // a scan is due (soon's or slow's timer)
	soon      *coalesce.Timer // scanSoon's: kicks after orphanScanDelay
	slow      *coalesce.Timer // scanSlowly's: kicks after slowScan
	slowScan  atomic.Int64    // orphanSlowScan, in ns (tests shorten it)
	watching  atomic.Bool     // SIGCHLD is watched (see run)
	scans     atomic.Int64    // scans done (for tests)
	waits     atomic.Int64    // scans that waited for a start in flight (for tests)
	starting  atomic.Int64    // starts between fork and registration
	managed   map[int]int     // pid → starts not yet waited for; guarded by idsMu
	idsMu     sync.Mutex
	self      int
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newReaper() *reaper {
	r := &reaper{managed: map[int]int{}, self: os.Getpid(), kick: make(chan struct{}, 1)}
	kick := func() {
		select {
		case r.kick <- struct{}{}:
		default: // a scan is due already
		}
	}
	r.soon, r.slow = coalesce.New(kick), coalesce.New(kick)
	r.slowScan.Store(int64(orphanSlowScan))
	return r
}

// scanSlowly asks for a scan within slowScan, unless SIGCHLD is watched
// (its ends then ask for scans) or one is asked for already: see run.
func (r *reaper) scanSlowly() {
	if !r.watching.Load() {
		r.slow.Arm(time.Duration(r.slowScan.Load()))
	}
}

// adopt registers pid, a child started by an earlier image of the daemon
// that a supervisor of this one waits for, before the reaper runs.
func (r *reaper) adopt(pid int) {
	r.idsMu.Lock()
	r.managed[pid]++
	r.idsMu.Unlock()
}

// scanSoon asks for a scan within orphanScanDelay: a burst of exits costs
// one scan, off the path of the requests waiting for them. It neither
// blocks nor wakes the reaper: the timer does, once the delay is over.
func (r *reaper) scanSoon() { r.soon.Arm(orphanScanDelay) }

// start runs cmd.Start so that the reaper leaves the child to cmd.Wait.
func (r *reaper) start(cmd *exec.Cmd) error {
	_, err := r.startWith(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	return err
}

// startWith runs fork, which starts a child and returns its pid, so that
// the reaper leaves that child to its caller's wait.
func (r *reaper) startWith(fork func() (pid int, err error)) (int, error) {
	r.starting.Add(1) // before the fork: see reapOrphans
	defer r.starting.Add(-1)
	pid, err := fork()
	if err != nil {
		return 0, err
	}
	r.idsMu.Lock()
	r.managed[pid]++
	r.idsMu.Unlock()
	r.scanSlowly() // its descendants may become orphans unseen
	return pid, nil
}

// waited is called after cmd.Wait has reaped pid. A managed process's end
// is when orphans appear (its children still running are the daemon's
// now), so a scan follows.
func (r *reaper) waited(pid int) {
	r.forget(pid)
	r.scanSoon()
}

// forget is waited without the scan, which the caller asks for later.
func (r *reaper) forget(pid int) {
	// A count, not a flag: a new start may reuse pid before the waiter of
	// the old one gets here, and must stay registered.
	r.idsMu.Lock()
	if r.managed[pid]--; r.managed[pid] <= 0 {
		delete(r.managed, pid)
	}
	r.idsMu.Unlock()
}

// managedCount is how many managed children are not waited for yet.
func (r *reaper) managedCount() int {
	r.idsMu.Lock()
	defer r.idsMu.Unlock()
	return len(r.managed)
}

// run makes the daemon a child subreaper and reaps its orphans.
//
// A scan for orphans (reapOrphans) follows, by orphanScanDelay, each end of
// a managed process (waited), when orphans usually appear. SIGCHLD is
// watched only while the daemon has children it does not manage alive
// (orphans, terminal shells), whose ends the scan must see: watching it
// always would put a wake-up of the runtime's signal thread and of this
// goroutine on every managed exit (5 to 37 µs of an exec-and-wait here);
// unwatched, the kernel drops it as it is raised (childSignals), so a
// managed exit wakes only the runtime's poller (its pipes and pidfd). A
// descendant reparented to the daemon while its managed ancestor lives
// (its parent, a grandchild of the daemon, ended) sends no signal the
// daemon sees until it ends; while managed processes run and no SIGCHLD is
// watched, a scan every orphanSlowScan finds it, so such an orphan stays a
// zombie (no memory, no CPU) for that long at most.
func (r *reaper) run() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		// Unwatched, SIGCHLD is dropped by the kernel (childSignals).
		processChildSignals.attach()
		defer processChildSignals.detach()
		// Watching a signal, or no longer, is a round trip to the
		// runtime's signal thread: only when the need changes.
		sigs := make(chan os.Signal, 1)
		watch := func(on bool) {
			switch {
			case on && !r.watching.Load():
				processChildSignals.listen()
				signal.Notify(sigs, syscall.SIGCHLD)
			case !on && r.watching.Load():
				signal.Stop(sigs)
				processChildSignals.unlisten()
			}
			r.watching.Store(on)
		}
		defer watch(false)
		r.scanSoon() // orphans an earlier image left, or a start raced
		for {
			select {
			case <-sigs:
				r.scanSoon()
			case <-r.kick:
				// An end or a start during the scan asks for the next one.
				r.soon.Disarm()
				r.slow.Disarm()
				watch(len(r.reapOrphans()) > 0)
				r.scans.Add(1)
				if r.managedCount() > 0 {
					r.scanSlowly()
				}
			case <-r.stop:
				r.soon.Stop()
				r.slow.Stop()
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
// manage, and lists the children it does not manage that are alive. A
// child the scan finds unmanaged may be a start between its fork and its
// registration: reaping it would steal a managed exit status, and counting
// it as alive would watch SIGCHLD until the next scan (in back-to-back
// execs, 121 exits in 1000 then paid a wake-up of the signal thread and of
// the reaper). So such candidates are looked at again once no start is in
// flight (awaitNoStart): a start counts itself before its fork, so a child
// listed before that count read zero has been registered by then if it is
// managed.
func (r *reaper) reapOrphans() (alive []int) {
	buf := make([]byte, 0, 512)
	var candidates []int
	for _, pid := range r.children(buf) {
		_, ppid, ok := readStat(pid, buf)
		if ok && ppid == r.self && !r.isManaged(pid) {
			candidates = append(candidates, pid)
		}
	}
	if len(candidates) == 0 || !r.awaitNoStart() {
		return nil
	}
	for _, pid := range candidates {
		state, ppid, ok := readStat(pid, buf)
		switch {
		case !ok || ppid != r.self || r.isManaged(pid):
		case state == 'Z':
			// Its pid cannot be reused while it is a zombie, so no start
			// can register it meanwhile.
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		default:
			alive = append(alive, pid)
		}
	}
	return alive
}

// awaitNoStart waits until no start is between its fork and its
// registration, and reports false if the reaper is stopped first. It holds
// up no start: it only looks again, less and less often (a fork to its
// registration takes some 200 µs). A start whose exec hangs (a binary on a
// stalled mount) keeps the reaper waiting, and nothing else.
func (r *reaper) awaitNoStart() bool {
	if r.starting.Load() == 0 {
		return true
	}
	r.waits.Add(1)
	for d := 100 * time.Microsecond; r.starting.Load() != 0; d = min(2*d, orphanScanDelay) {
		select {
		case <-r.stop: // nil before run: never
			return false
		case <-time.After(d):
		}
	}
	return true
}

func (r *reaper) isManaged(pid int) bool {
	r.idsMu.Lock()
	defer r.idsMu.Unlock()
	_, ok := r.managed[pid]
	return ok
}

// children lists the daemon's child pids from /proc/self/task/*/children,
// or from a scan of all of /proc where the kernel lacks those files. buf
// is scratch space for the reads.
func (r *reaper) children(buf []byte) []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err == nil {
		var out []int
		for _, t := range tasks {
			b, err := procfile.Read("/proc/self/task/"+t.Name()+"/children", buf)
			buf = b
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
	b, err := procfile.Read("/proc/"+strconv.Itoa(pid)+"/stat", buf)
	if err != nil {
		return 0, 0, false
	}
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

// ChildStarted tells the manager that the daemon started a child it does
// not manage (a terminal shell). The orphan reaper scans soon after and,
// finding it alive, watches SIGCHLD while it lives, so that its end and
// the ends of the orphans it leaves are reaped within orphanScanDelay, as
// after a managed process's end. Unwatched, nothing would tell the reaper:
// such an orphan would stay a zombie, holding a pid, until a managed
// process ended. Without Reap it does nothing.
func (m *Manager) ChildStarted() {
	if m.cfg.Reap {
		m.reaper.scanSoon()
	}
}
