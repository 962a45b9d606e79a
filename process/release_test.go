package process

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestOutputClosesPipesAtEndOnceReleased: a pipe at end of file stays open
// until its attempt is released (its close is not on the way to an exec's
// answer), and one that reaches end of file after that (an orphan held it)
// is closed at once.
func TestOutputClosesPipesAtEndOnceReleased(t *testing.T) {
	m := newTestManager(t, nil)
	var reads [2]*os.File
	for i := range reads {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		reads[i] = r
	}
	o := m.newOutput(&Process{m: m}, reads[0], reads[1])
	isOpen := func(f *os.File) bool { _, err := f.Stat(); return err == nil }

	o.reachedEOF(0)
	if !isOpen(reads[0]) {
		t.Fatal("a pipe at end of file was closed before its attempt was released")
	}
	o.closeSpent()
	if isOpen(reads[0]) {
		t.Fatal("release left a pipe at end of file open")
	}
	o.reachedEOF(1)
	if isOpen(reads[1]) {
		t.Fatal("a pipe reaching end of file after the release was left open")
	}
	select {
	case <-o.drained:
	default:
		t.Fatal("both pipes at end of file, and drained is not closed")
	}
}

// TestEndedProcessesHoldNoDescriptor: once a process has ended and its
// supervisor is done, neither its pipes nor the pidfd its exit was seen on
// are open.
func TestEndedProcessesHoldNoDescriptor(t *testing.T) {
	// A file dropped unclosed is closed by its finalizer at some collection,
	// which would hide the leak: no collection while this runs.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	m := newTestManager(t, nil)
	run := func() {
		p, err := m.Start(Spec{Command: "true"})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
	}
	settle := func() { // the supervisors ended, and pipes are made ahead again
		ended := make(chan struct{})
		go func() { m.supervisors.Wait(); close(ended) }()
		eventually(t, "the supervisors to end and pipes to be made ahead", func() bool {
			select {
			case <-ended:
				return m.pipesAhead.held() != nil
			default:
				return false
			}
		})
	}
	run() // opens what stays open (the journal, the pipes made ahead)
	settle()
	before := openFDCount(t)
	for range 5 { // three descriptors left by each would show above before
		run()
	}
	settle()
	eventually(t, "the descriptors to be back to at most their count before the starts", func() bool {
		return openFDCount(t) <= before
	})
}
