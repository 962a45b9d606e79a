package fdholders

import (
	"os"
	"os/exec"
	"testing"
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
