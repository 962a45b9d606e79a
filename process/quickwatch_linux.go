package process

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A quick watch holds its supervisor's OS thread in poll(2) for at most
// defaultQuickWatchLimit (Manager.quickLimit), and at most quickWatchSlots
// run at once: the threads a burst of starts holds stay few and briefly
// held, where a blocking wait for each child's whole life would pin a
// thread per running process. A freeze waits for the watches under way
// to end, so the limit also bounds how much longer a switch takes.
const (
	defaultQuickWatchLimit = 50 * time.Millisecond
	quickWatchSlots        = 4
)

// quickSlots bounds the quick watches running at once.
type quickSlots chan struct{}

func newQuickSlots() quickSlots { return make(quickSlots, quickWatchSlots) }

func (q quickSlots) take() bool {
	select {
	case q <- struct{}{}:
		return true
	default:
		return false
	}
}

func (q quickSlots) give() { <-q }

// quickWatch is the start of a just-spawned attempt's watch, on the
// supervisor's own thread (or the exec's that waits for it: superviseHere):
// one poll(2) over its two output pipes and a pidfd, reading into the log
// what they bring, until the process has exited and both pipes reached end
// of file (once it exited, only what they hold then), or limit passed
// (Manager.quickLimit, or less for an exec whose wait is bounded tighter).
// Then the pumps take over what is still open, and the supervisor's wait
// (awaitExit) what did not happen yet. It reports whether the process exited (not reaped: the supervisor
// reaps it).
//
// The daemon keeps its own copies of the pipes' write ends open while it
// watches (attempt.writers), so that the child's closing its own at exit
// wakes nobody, and its end wakes this thread once, by the pidfd, when it
// is all done: without them, the pipes' ends woke the thread first, one
// after the other, each time taking the processor from the child still
// exiting (on a 2-core VM whose kernel keeps both on one vCPU: three
// hand-overs instead of one, docs/measured.md). A pipe still brings
// every write at once (POLLIN), so nothing waits for the exit.
//
// Why: most commands an exec waits for end within milliseconds. The pumps
// and the exit wait sit on the runtime's poller, and a child's end wakes
// them there: the poller's thread, then the goroutines it readies on other
// threads, each a hand-over between vCPUs before the answer can go. Here
// the child's end wakes this thread once, and the supervisor reaps, ends
// the record and hands its waiter the processor without another hop; on
// the 2-core VM, with the pipes off the poller (outputPipe), an
// exec-and-wait answered 14–43 µs sooner (docs/measured.md). It changes no
// guarantee: every byte still goes through the log (pipeReading, as a pump
// keeps it), in the order the pipe gave it.
func (p *Process) quickWatch(att *attempt, limit time.Duration) (exited bool) {
	// However the watch ends, the daemon's copies of the write ends are
	// closed before the pumps (or a freeze) take the pipes: their end of
	// file must come once the child's copies are closed.
	o := att.out
	if att.pidfd < 0 || !p.m.quick.take() { // no pidfd: no pidfds here, or a resumed attempt
		att.closeWriters()
		o.startPumps()
		return false
	}
	defer p.m.quick.give()
	files, ok := o.beginQuick()
	if !ok {
		att.closeWriters()
		return false
	}
	defer func() {
		att.closeWriters()
		o.endQuick()
	}()
	pidfd := att.pidfd // closed once the end is answered (attempt.release)

	// polled[j] is the pipe index of fds[j], or -1 for the pidfd. A done
	// entry gets a negative descriptor, which poll(2) skips.
	fds := make([]unix.PollFd, 0, 3)
	var polled [3]int
	var readings [2]pipeReading // each makes its buffer at its pipe's first data
	for i, f := range files {
		if fd, ok := rawFD(f); ok {
			polled[len(fds)] = i
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
	}
	polled[len(fds)] = -1
	fds = append(fds, unix.PollFd{Fd: int32(pidfd), Events: unix.POLLIN})
	open := len(fds)

	wokeBeforeExit := 0
	if p.m.quickWatched != nil {
		defer func() { p.m.quickWatched(wokeBeforeExit, open == 0) }()
	}

	deadline := time.Now().Add(limit)
	for open > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		timeout := int((left + time.Millisecond - 1) / time.Millisecond)
		if exited {
			// The child's own ends of the pipes closed before its pidfd
			// said it exited: what the pipes hold now is read, and a pipe
			// not at its end is held by another process (a background
			// child), maybe for long: the pumps and the usual wait for the
			// output's end take it from here, as without a quick watch.
			timeout = 0
		}
		n, err := unix.Poll(fds, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			break // a failure, or the limit: the pumps and the usual wait go on
		}
		if !exited && fds[len(fds)-1].Revents == 0 {
			wokeBeforeExit++
		}
		for j := range fds {
			if fds[j].Fd < 0 || fds[j].Revents == 0 {
				continue
			}
			i := polled[j]
			if i < 0 {
				exited = true
				fds[j].Fd = -1
				open--
				// What the child wrote is in the pipes now: without the
				// daemon's copies of their write ends, a pipe no
				// descendant holds reads to its end at once.
				att.closeWriters()
				continue
			}
			if nothingToRead(fds[j].Revents) {
				// Done, as a pump is at end of file, without a read: a
				// command that printed nothing is read not once.
				o.reachedEOF(i)
				fds[j].Fd = -1
				open--
				continue
			}
			// One read per readiness (it cannot block: the poll said there
			// is data): a process writing faster than this reads still lets
			// the limit be checked.
			fd := int(fds[j].Fd)
			got, err := unix.Read(fd, readings[i].space())
			readings[i].keep(p, outputStreams[i], fd, got)
			switch {
			case got > 0, errors.Is(err, unix.EINTR):
			default: // end of file, or a pipe that cannot be read: as a pump does
				o.reachedEOF(i)
				fds[j].Fd = -1
				open--
			}
		}
	}
	return exited
}

// nothingToRead reports whether a pipe whose poll(2) gave revents is done
// without a read: at its end with nothing left in it (POLLHUP alone; a
// pipe with bytes left says POLLIN too), or unreadable (POLLERR,
// POLLNVAL), which a read would only confirm.
func nothingToRead(revents int16) bool { return revents&unix.POLLIN == 0 }

// beginQuick takes the reading of a just-spawned attempt's pipes for a
// quick watch, unless a freeze or a run came first. The watch counts as a
// pump: a freeze waits for it to end.
func (o *output) beginQuick() ([2]*os.File, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.pending || o.frozen.Load() {
		return [2]*os.File{}, false
	}
	o.pending = false
	o.pumps.Add(1)
	return o.files, true
}

// endQuick hands the pipes still open to pumps, unless a freeze came
// meanwhile (a thaw runs them).
func (o *output) endQuick() {
	o.mu.Lock()
	if !o.frozen.Load() {
		o.startPumpsLocked()
	}
	o.mu.Unlock()
	o.pumps.Done()
}
