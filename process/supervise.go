package process

import (
	"context"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/fdholders"
)

// supervise waits for each attempt, restarts on failure when asked, and
// records the end. One goroutine per process runs it, from Start to the
// end, or until halt is done (a freeze): it then stops at the wait it is
// in, having changed nothing the record does not say (the attempt reaped
// or not, restartAt), and a thaw or the next image of the daemon starts it
// again from there. An exec that waits for the end runs its start on its
// own goroutine first (superviseHere).
func (p *Process) supervise(halt context.Context) { p.superviseAfter(halt, watchToRun) }

// firstWatch is what supervise knows of its first attempt's quick watch.
type firstWatch uint8

const (
	watchToRun     firstWatch = iota // not run: supervise runs it
	watchedRunning                   // run (superviseHere), and the process had not exited
	watchedExited                    // run, and the process had exited
)

// superviseAfter is supervise, told whether its first attempt's quick
// watch ran already (superviseHere).
func (p *Process) superviseAfter(halt context.Context, first firstWatch) {
	defer p.m.supervisors.Done()
	if p.m.supervisorFrom != nil {
		p.m.supervisorFrom(first)
	}
	for {
		p.mu.Lock()
		att, restarting := p.att, !p.restartAt.IsZero()
		p.mu.Unlock()
		if !restarting {
			exited := first == watchedExited
			if first == watchToRun {
				exited = p.quickWatch(att, p.m.quickLimit)
			}
			if !p.reap(halt, att, exited) || !p.awaitOutput(halt, att.out) {
				p.releaseAttempt(att)
				return
			}
			if !p.attemptOver(att) {
				p.end(att)
				return
			}
		}
		first = watchToRun // a restart's attempt is watched anew
		p.releaseAttempt(att)
		switch p.restart(halt) {
		case restartStarted:
			continue
		case restartHalted:
			return
		}
		if leftover := p.finish(att.code); leftover != nil {
			p.m.tidy.later(leftover)
		}
		return
	}
}

// attemptOver records that the attempt, reaped with its output all in, is
// over, and reports whether a restart follows (restartAt is then set).
func (p *Process) attemptOver(att *attempt) (retry bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alive = false
	if p.stdin != nil {
		p.stdin.close()
		p.stdin = nil
	}
	retry = p.intent == "" && att.code != 0 && p.spec.RestartOnFailure &&
		(p.spec.MaxRestarts < 0 || p.restartCount < p.spec.MaxRestarts)
	if retry {
		p.restartAt = time.Now().Add(p.m.cfg.RestartDelay)
	}
	return retry
}

// end records the end of the process with its last attempt's code, and
// queues the tidying it leaves (endTidy): what finish leaves, and the
// attempt's release.
func (p *Process) end(att *attempt) { p.queueEndTidy(att, p.finish(att.code)) }

// queueEndTidy queues (endTidy) what an end leaves: finish's leftover, if
// any, and the release of the last attempt.
func (p *Process) queueEndTidy(att *attempt, leftover func()) {
	p.m.tidy.later(func() {
		if leftover != nil {
			leftover()
		}
		p.releaseAttempt(att)
	})
}

// releaseAttempt releases the attempt (release) and asks the reaper for a
// scan: a managed process's end is when orphans appear (its children still
// running are the daemon's now). After an end it runs a moment after the
// answer (endTidy), and not as the process is reaped: the closes are
// processor time no answer waits for, and a timer earlier than any the
// runtime's poller sleeps until wakes that poller's thread, some 10 µs on
// the way of the answer.
func (p *Process) releaseAttempt(att *attempt) {
	att.release()
	p.m.reaper.scanSoon()
}

// release closes what the attempt held for its wait and no longer needs:
// the pipes its output read to their end, and the pidfd its exit was seen
// on. It runs a moment after an end is recorded (endTidy), or as the
// supervisor stops or restarts.
func (a *attempt) release() {
	a.closeWriters()
	a.out.closeSpent()
	a.exit.close()
	if a.pidfd >= 0 {
		_ = syscall.Close(a.pidfd)
		a.pidfd = -1
	}
}

// closeWriters closes the daemon's copies of the output's write ends, if
// it still holds them: from then on, the pipes reach end of file once the
// child's copies (and any its descendants hold) are closed.
func (a *attempt) closeWriters() {
	a.writers[0].close()
	a.writers[1].close()
}

// reap waits for the attempt's process to exit (unless the quick watch saw
// it exit) and takes its status; a status peekExit took stays when the
// reap finds none. No thread is held while it waits, and
// only this wait reaps a managed child (the reaper leaves managed pids
// alone), so the pid is still ours. It reports false when halt came first:
// the child, running or a zombie, is left for a later supervisor to reap.
func (p *Process) reap(halt context.Context, att *attempt, exited bool) bool {
	p.mu.Lock()
	reaped := att.reaped
	p.mu.Unlock()
	if reaped {
		return true
	}
	if !exited && !awaitExit(halt, att.pid, &att.exit) {
		return false
	}
	ws, err := reapChild(att.pid)
	p.m.reaper.forget(att.pid) // the scan that follows an end: releaseAttempt
	p.mu.Lock()
	att.reaped = true
	switch {
	case err == nil:
		att.code, att.status = exitCode(ws), &ws
	case att.status == nil: // no status peeked either (peekExit)
		att.code = -1
	}
	p.mu.Unlock()
	return true
}

// reapChild takes the exit status of pid, a child that has exited (or,
// where pidfds are not available, waits for it to).
func reapChild(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws, err
		}
	}
}

// awaitOutput waits, after the attempt exited, for its output to reach end
// of file. An orphan holding the pipes must not keep the process running;
// a pump that is only late must not cut its output (see
// fdholders.AwaitDrained, which this is, stopping at halt). It reports
// false when halt came first.
func (p *Process) awaitOutput(halt context.Context, o *output) bool {
	if o.drainedNow() { // the common case, on the way to the end's answer: no timer
		return true
	}
	grace := time.NewTimer(p.m.cfg.OutputDrainGrace)
	defer grace.Stop()
	select {
	case <-o.drained:
		return true
	case <-halt.Done():
		return false
	case <-grace.C:
	}
	if fdholders.HeldElsewhere(o.holders()) {
		return true
	}
	late := time.NewTimer(p.m.lateDrainLimit)
	defer late.Stop()
	select {
	case <-o.drained:
	case <-late.C:
	case <-halt.Done():
		return false
	}
	return true
}

// defaultLateDrainLimit bounds the wait for pumps that lag behind a process whose
// pipes nobody else holds (a setuid orphan the scan cannot see would
// otherwise hold the end back for as long as it lives). See
// fdholders.AwaitDrained.
const defaultLateDrainLimit = 5 * time.Second

// finish records the end and wakes everyone waiting for it. What it
// leaves for a moment later (the journal line and files of the records the
// end pruned) it returns, for the caller to queue (endTidy) once those it
// woke had their turn; nil when nothing is left.
func (p *Process) finish(code int) (leftover func()) {
	p.mu.Lock()
	switch {
	case p.intent != "":
		p.status, p.exitCode = p.intent, -1
	case code == 0:
		p.status, p.exitCode = StatusCompleted, 0
	default:
		p.status, p.exitCode = StatusFailed, code
	}
	p.completedAt = time.Now()
	if p.lifetime != nil {
		p.lifetime.Stop()
	}
	p.mu.Unlock()
	p.m.markEnded(p)
	p.log.Finish()
	// The cap on ended records holds by the time whoever waits for this end
	// looks (an exec that answers its client, then a list). The journal
	// line and the files of the records it drops come a moment after that
	// answer (endTidy), unless a shutdown began.
	m := p.m
	gone, later := m.takePrunedAfterEnd()
	if !later {
		m.forgetPruned(gone)
	}
	close(p.done)
	if !later {
		return nil
	}
	return func() {
		m.forgetPruned(gone)
		m.forgetting.Done()
	}
}

// exitCode is the exit status, or -1 when a signal ended the process.
func exitCode(ws syscall.WaitStatus) int {
	if !ws.Exited() {
		return -1
	}
	return ws.ExitStatus()
}
