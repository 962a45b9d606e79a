package fdholders

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestHeldElsewhere(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	id, ok := Of(r)
	if !ok {
		t.Fatal("Of found no identity for a pipe")
	}
	if wid, _ := Of(w); wid != id {
		t.Fatalf("the two ends of a pipe differ: %v, %v", id, wid)
	}
	if HeldElsewhere([]ID{id}) {
		t.Fatal("a pipe only this process holds is reported as held elsewhere")
	}
	if !HeldElsewhere(nil) {
		t.Error("no file to look for must answer true (the cautious answer)")
	}
	cmd := exec.Command("sleep", "100")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !HeldElsewhere([]ID{{Dev: 1<<40 + 1, Ino: 7}, id}) {
		t.Error("a child holding the write end is not seen")
	}
	if HeldElsewhere([]ID{{Dev: id.Dev, Ino: id.Ino + 1<<40}}) {
		t.Error("an unrelated inode is reported as held")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if HeldElsewhere([]ID{id}) {
		t.Error("the pipe is still reported as held after the child ended")
	}
}

func TestOfPath(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, ok1 := Of(f)
	b, ok2 := OfPath(f.Name())
	if !ok1 || !ok2 || a != b {
		t.Fatalf("Of %v %v, OfPath %v %v: want the same identity", a, ok1, b, ok2)
	}
	if _, ok := OfPath(f.Name() + ".missing"); ok {
		t.Error("OfPath of a missing file reported an identity")
	}
}

func TestOfOpenSkipsClosedFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	id, _ := Of(w)
	r.Close()
	if got := OfOpen(r, w); len(got) != 1 || got[0] != id {
		t.Fatalf("OfOpen(closed, open) = %v, want only %v", got, id)
	}
}

// TestAwaitDrained: files is asked for only when the grace runs out; a
// holder elsewhere ends the wait then, and without one the wait lasts until
// drained. The durations only bound hangs: each case ends on an event.
func TestAwaitDrained(t *testing.T) {
	const long = time.Hour // a wait this long would hang the test: it must not happen

	drained := make(chan struct{})
	close(drained)
	AwaitDrained(drained, long, long, func() []ID { t.Error("files asked for although drained"); return nil })

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("sleep", "100")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	w.Close()
	AwaitDrained(make(chan struct{}), time.Millisecond, long, func() []ID { return OfOpen(r) }) // held by sleep: returns after the grace

	late := make(chan struct{})
	lonely, lw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer lonely.Close()
	defer lw.Close()
	asked := make(chan struct{})
	go func() { <-asked; time.Sleep(50 * time.Millisecond); close(late) }()
	AwaitDrained(late, time.Millisecond, long, func() []ID { close(asked); return OfOpen(lonely) })
	select {
	case <-late:
	default:
		t.Fatal("AwaitDrained returned before drained although nobody else held the file")
	}
}
