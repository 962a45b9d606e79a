package process

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// An exec that waits for the end supervises its start itself: a process
// that ends within the quick watch, its output all in, ends on the exec's
// own goroutine, and no supervisor's goroutine starts; anything else goes
// on in one, told where the exec stopped. No case depends on the
// machine's speed: the quick watch is long enough for the exits it must
// see, or too short for a process the test has not let end yet.
func TestExecuteSupervisesItsOwnStart(t *testing.T) {
	cases := []struct {
		name       string
		spec       Spec // $FIFO: a read there waits for the test
		quickLimit time.Duration
		start      bool // Start, not Execute
		// release is written to the fifo once a supervisor's goroutine
		// started ("": nothing is written).
		release      string
		wantFrom     []firstWatch // the supervisors' goroutines that started
		wantStatus   Status
		wantRestarts int
		wantStdout   string // once everything ended
	}{
		{name: "ends within the watch", spec: Spec{Command: "echo hi"}, quickLimit: hangGuard,
			wantStatus: StatusCompleted, wantStdout: "hi\n"},
		{name: "outlives the watch", spec: Spec{Command: `read x < "$FIFO"; echo "$x"`}, quickLimit: time.Millisecond,
			release: "go\n", wantFrom: []firstWatch{watchedRunning}, wantStatus: StatusCompleted, wantStdout: "go\n"},
		{name: "exits, a child holds its output", spec: Spec{Command: `(read x < "$FIFO"; echo "$x") & echo early`}, quickLimit: hangGuard,
			release: "late\n", wantFrom: []firstWatch{watchedExited}, wantStatus: StatusCompleted, wantStdout: "early\nlate\n"},
		{name: "fails, and a restart follows", spec: Spec{Command: "echo try; exit 3", RestartOnFailure: true, MaxRestarts: 1}, quickLimit: hangGuard,
			wantFrom: []firstWatch{watchedExited}, wantStatus: StatusFailed, wantRestarts: 1, wantStdout: "try\nAttempting restart 1/1\ntry\n"},
		{name: "a start without a wait", spec: Spec{Command: "echo hi"}, quickLimit: hangGuard, start: true,
			wantFrom: []firstWatch{watchToRun}, wantStatus: StatusCompleted, wantStdout: "hi\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestManager(t, nil)
			m.quickLimit = tc.quickLimit
			from := make(chan firstWatch, 4)
			m.supervisorFrom = func(f firstWatch) { from <- f }
			fifo := mkfifo(t)
			tc.spec.Env = map[string]string{"FIFO": fifo}

			type result struct {
				p   *Process
				err error
			}
			done := make(chan result, 1)
			go func() {
				if tc.start {
					p, err := m.Start(tc.spec)
					done <- result{p, err}
					return
				}
				p, err := m.Execute(testCtx(t), ExecuteRequest{Spec: tc.spec, WaitForCompletion: true})
				done <- result{p, err}
			}()
			var got []firstWatch
			if len(tc.wantFrom) > 0 {
				got = append(got, testsupport.Receive(t, from, "a supervisor's goroutine"))
			}
			if tc.release != "" {
				writeFIFO(t, fifo, tc.release)
			}
			r := testsupport.Receive(t, done, "Execute's answer")
			if r.err != nil {
				t.Fatalf("Execute: %v", r.err)
			}
			killGroupOnCleanup(t, r.p)
			info := waitEnded(t, r.p)
			if info.Status != tc.wantStatus || info.RestartCount != tc.wantRestarts {
				t.Errorf("ended %s after %d restarts; want %s after %d", info.Status, info.RestartCount, tc.wantStatus, tc.wantRestarts)
			}
			eventually(t, "the whole output", func() bool { return logText(t, r.p.Log(), Stdout) == tc.wantStdout })
			// Every supervision counted itself off: the exec's own, or
			// its goroutine's.
			counted := make(chan struct{})
			go func() { m.supervisors.Wait(); close(counted) }()
			testsupport.Receive(t, counted, "the supervisions to end")
			close(from)
			for f := range from {
				got = append(got, f)
			}
			if len(got) != len(tc.wantFrom) || (len(got) > 0 && got[0] != tc.wantFrom[0]) {
				t.Errorf("supervisors' goroutines started from %v; want %v (%d: the watch not run, %d: run, the process running, %d: run, the process exited)",
					got, tc.wantFrom, watchToRun, watchedRunning, watchedExited)
			}
		})
	}
}

// The exec's own quick watch is no longer than the exec's bound on its
// wait: with a watch limit far past the hang guard, a bounded exec of a
// process that never ends still gives up at its bound.
func TestExecuteWatchNoLongerThanItsBound(t *testing.T) {
	m := newTestManager(t, nil)
	m.quickLimit = 10 * hangGuard
	done := make(chan error, 1)
	go func() {
		_, err := m.Execute(testCtx(t), ExecuteRequest{Spec: Spec{Command: "exec sleep 100"}, WaitForCompletion: true,
			Waits: Waits{Completion: 200 * time.Millisecond}})
		done <- err // the manager's shutdown ends the process
	}()
	if err := testsupport.Receive(t, done, "the bounded exec to give up"); !errors.Is(err, ErrWaitTimeout) || !strings.Contains(err.Error(), "after 200ms") {
		t.Fatalf("Execute error = %v; want it to give up after 200ms", err)
	}
}
