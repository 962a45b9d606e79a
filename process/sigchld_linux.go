package process

import (
	"sync"
	"syscall"
	"unsafe"
)

// childSignals switches the process's SIGCHLD between the Go runtime's
// handler and the kernel's default, under which the kernel drops the
// signal as it is raised: no thread of the daemon is woken by a child's
// end. The runtime installs its handler for SIGCHLD at start and keeps it
// even when no one listens (signal.Stop and signal.Reset leave it), so
// every managed exit woke some thread of the daemon to run a handler that
// does nothing, on the way of every exec-and-wait (13 µs of it on average
// on the 2-core VM: docs/measured.md). The default action still leaves a
// zombie for waitid (only SIG_IGN or SA_NOCLDWAIT would reap children
// behind the supervisor's back), and children inherit it either way.
//
// A disposition is process-wide, so one value stands for it
// (processChildSignals): the reapers of all managers (one in the daemon,
// several in tests) share it. While a reaper runs and none listens, SIGCHLD
// is dropped; a reaper about to watch it (signal.Notify) puts the runtime's
// handler back first, since Notify does not reinstall a handler the
// runtime believes installed; once the last reaper ends, the runtime's
// handler is back as it found it.
type childSignals struct {
	mu        sync.Mutex
	runtimes  kernelSigaction // the Go runtime's action, saved when first dropped
	dropped   bool
	reapers   int
	listeners int
}

// processChildSignals is the process's SIGCHLD disposition.
var processChildSignals childSignals

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on
// Linux (handler, flags, restorer, then a 64-bit mask).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// attach is a reaper starting: SIGCHLD is dropped unless a reaper listens.
func (c *childSignals) attach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reapers++
	if c.listeners == 0 {
		c.dropLocked()
	}
}

// detach is a reaper ending: the last one gives the runtime its handler back.
func (c *childSignals) detach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reapers--
	if c.reapers == 0 {
		c.restoreLocked()
	}
}

// listen is called before signal.Notify for SIGCHLD, unlisten after
// signal.Stop.
func (c *childSignals) listen() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners++
	c.restoreLocked()
}

func (c *childSignals) unlisten() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners--
	if c.listeners == 0 && c.reapers > 0 {
		c.dropLocked()
	}
}

// dropLocked sets the default action, saving the runtime's. Should the
// kernel refuse (it has no reason to), the runtime's handler stays and
// every child's end wakes a thread, as before.
func (c *childSignals) dropLocked() {
	if c.dropped {
		return
	}
	var dfl kernelSigaction // SIG_DFL is 0
	if rtSigaction(&dfl, &c.runtimes) == nil {
		c.dropped = true
	}
}

func (c *childSignals) restoreLocked() {
	if !c.dropped {
		return
	}
	if rtSigaction(&c.runtimes, nil) == nil {
		c.dropped = false
	}
}

// rtSigaction sets SIGCHLD's action to act, storing the one before in old
// if old is not nil. A raw call: the runtime keeps its own bookkeeping of
// the handlers it installed, which this switch leaves alone.
func rtSigaction(act, old *kernelSigaction) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGCHLD),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), unsafe.Sizeof(act.mask), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
