package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Many watches cost one inotify instance: past the kernel's default of 128
// instances per user, every watch still works, and closing them all
// releases the instance and every descriptor.
func TestWatchesShareOneInstance(t *testing.T) {
	f, dir := newWatchFS(t)
	inst0, watches0 := inotifyWatches(t)
	const n = 200
	ws := make([]*Watcher, n)
	for i := range ws {
		sub := filepath.Join(dir, fmt.Sprint(i))
		must(t, os.Mkdir(sub, 0o755))
		w, err := f.Watch(context.Background(), sub, Options{})
		if err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
		ws[i] = w
	}
	if inst, nw := inotifyWatches(t); inst != inst0+1 || nw != watches0+n {
		t.Fatalf("%d watches: %d instances, %d descriptors; want %d, %d", n, inst, nw, inst0+1, watches0+n)
	}
	for i, w := range ws {
		p := filepath.Join(dir, fmt.Sprint(i), "f")
		must(t, os.WriteFile(p, nil, 0o644))
		waitFor(t, w, OpCreate, p)
	}
	for _, w := range ws {
		w.Close()
	}
	if inst, nw := inotifyWatches(t); inst != inst0 || nw != watches0 {
		t.Fatalf("after closing: %d instances, %d descriptors; want %d, %d", inst, nw, inst0, watches0)
	}
	// The next watch opens a new instance.
	w := startWatching(t, f, dir, Options{})
	p := filepath.Join(dir, "after")
	must(t, os.WriteFile(p, nil, 0o644))
	waitFor(t, w, OpCreate, p)
}

// Two watches of the same folder share the kernel's descriptor: closing
// one leaves the other whole, and each gets only its own kind of events.
func TestWatchesOfOneFolderAreIndependent(t *testing.T) {
	f, dir := newWatchFS(t)
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	_, watches0 := inotifyWatches(t)

	folder := startWatching(t, f, dir, Options{})
	fileWatch := startWatching(t, f, file, Options{})
	second, err := f.Watch(context.Background(), dir, Options{})
	must(t, err)
	if _, nw := inotifyWatches(t); nw != watches0+1 { // a file is watched through its folder
		t.Fatalf("%d descriptors, want %d", nw, watches0+1)
	}

	second.Close()
	waitEnd(t, second)
	created := filepath.Join(dir, "created")
	must(t, os.WriteFile(created, nil, 0o644))
	waitFor(t, folder, OpCreate, created)
	if _, nw := inotifyWatches(t); nw != watches0+1 {
		t.Fatalf("after closing the second watch: %d descriptors, want %d", nw, watches0+1)
	}

	// The file watch sees the write; the folder watch sees it as WRITE of
	// its entry, and a CREATE in the folder never reaches the file watch.
	must(t, appendTo(file, "x"))
	waitFor(t, fileWatch, OpWrite, file)
	waitFor(t, folder, OpWrite, file)
	must(t, appendTo(file, "y"))
	if ev := nextEvent(t, fileWatch); ev.Op != OpWrite || ev.Path != file {
		t.Fatalf("the file watch got %v, want only its file's WRITE", ev)
	}
}

// A recursive watch and a watch of one of its subfolders share that
// folder's descriptor. When the subfolder is renamed, the recursive watch
// follows it under its new name while the other watch ends (its root was
// moved): neither may take the descriptor from the other.
func TestSharedDescriptorSurvivesRenameAndEnd(t *testing.T) {
	f, dir := newWatchFS(t)
	sub := filepath.Join(dir, "sub")
	must(t, os.Mkdir(sub, 0o755))
	tree := startWatching(t, f, dir, Options{Recursive: true})
	root := startWatching(t, f, sub, Options{})

	renamed := filepath.Join(dir, "renamed")
	must(t, os.Rename(sub, renamed))
	waitFor(t, tree, OpCreate, renamed)
	end := waitEnd(t, root)
	if !slices.ContainsFunc(end, func(ev Event) bool { return ev.Op == OpError && ev.Path == sub }) {
		t.Fatalf("the moved root's watch ended with %v, want an ERROR saying so", end)
	}
	root.Close()
	inside := filepath.Join(renamed, "inside")
	must(t, os.WriteFile(inside, nil, 0o644))
	waitFor(t, tree, OpCreate, inside)
}

// A watch whose reader never reads loses its own events, and delays no
// other watch.
func TestStalledWatchDelaysNoOther(t *testing.T) {
	f, dir := newWatchFS(t)
	busy, quiet := filepath.Join(dir, "busy"), filepath.Join(dir, "quiet")
	must(t, os.Mkdir(busy, 0o755))
	must(t, os.Mkdir(quiet, 0o755))
	stalled := startWatching(t, f, busy, Options{Buffer: 4})
	w := startWatching(t, f, quiet, Options{})
	for i := range 500 {
		must(t, os.WriteFile(filepath.Join(busy, fmt.Sprint(i)), nil, 0o644))
	}
	p := filepath.Join(quiet, "f")
	must(t, os.WriteFile(p, nil, 0o644))
	waitFor(t, w, OpCreate, p)
	// Its queue held Buffer events; a notice says how many more were lost.
	for {
		if ev := nextEvent(t, stalled); ev.Op == OpError {
			break
		}
	}
}

func TestRawQueueOverflowTakesThePlaceOfTheLost(t *testing.T) {
	q := newRawQueue(2)
	for i := range 5 {
		q.push(rawEvent{wd: i})
	}
	q.push(rawEvent{wd: 9}) // still full: lost too
	ctx := context.Background()
	var got []int
	pop := func() {
		ev, ok := q.pop(ctx)
		if !ok {
			t.Fatal("pop ended")
		}
		if ev.mask&syscall.IN_Q_OVERFLOW != 0 {
			got = append(got, -1)
		} else {
			got = append(got, ev.wd)
		}
	}
	pop()
	pop()
	q.push(rawEvent{wd: 10}) // room again: the notice goes first
	pop()
	pop()
	if want := []int{0, 1, -1, 10}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := q.pop(cancelled); ok {
		t.Fatal("pop of an empty queue with a cancelled context returned an event")
	}
}

// TestWatchHubChurn opens and closes overlapping watches (the same folders,
// recursive and not, nested) from several goroutines while files change
// under them. Every watch still sees a change made after it was armed, and
// once all are closed the instance and every kernel watch are gone.
func TestWatchHubChurn(t *testing.T) {
	f, dir := newWatchFS(t)
	for _, d := range []string{"a/b/c", "a/d", "e"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	inst0, watches0 := inotifyWatches(t)
	targets := []string{"", "a", "a/b", "a/b/c", "a/d", "e"}
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { // background churn in every folder
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = os.WriteFile(filepath.Join(dir, targets[i%len(targets)], "noise"), []byte{byte(i)}, 0o644)
		}
	}()
	const workers, rounds = 4, 25
	errs := make(chan error, workers*rounds)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for r := range rounds {
				target := targets[(w+r)%len(targets)]
				watch, err := f.Watch(context.Background(), filepath.Join(dir, target), Options{Recursive: r%2 == 0})
				if err != nil {
					errs <- err
					continue
				}
				// A change only this watch's goroutine makes, after arming.
				own := filepath.Join(dir, target, fmt.Sprintf("w%d-r%d", w, r))
				if err := os.WriteFile(own, nil, 0o644); err != nil {
					errs <- err
				}
				if !sawCreate(watch, own) {
					errs <- fmt.Errorf("watch of %q missed CREATE %s", target, own)
				}
				watch.Close()
			}
		}()
	}
	for range workers {
		<-done
	}
	close(stop)
	<-writerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if inst, nw := inotifyWatches(t); inst != inst0 || nw != watches0 {
		t.Fatalf("after the churn: %d instances, %d descriptors; want %d, %d", inst, nw, inst0, watches0)
	}
}

// sawCreate reads w until CREATE path, within watchGuard.
func sawCreate(w *Watcher, path string) bool {
	deadline := time.After(watchGuard)
	for {
		ev, ok, _ := receive(w, deadline)
		switch {
		case !ok:
			return false
		case ev.Op == OpCreate && ev.Path == path:
			return true
		}
	}
}

// TestReleaseOfALargeTree: closing a recursive watch of more folders than
// one release batch lets go of every descriptor, and leaves another watch
// working.
func TestReleaseOfALargeTree(t *testing.T) {
	f, dir := newWatchFS(t)
	tree, other := filepath.Join(dir, "tree"), filepath.Join(dir, "other")
	const folders = 3*releaseBatch + 7
	for i := range folders {
		must(t, os.MkdirAll(filepath.Join(tree, fmt.Sprint(i%10), fmt.Sprint(i)), 0o755))
	}
	must(t, os.Mkdir(other, 0o755))
	_, watches0 := inotifyWatches(t)
	keep := startWatching(t, f, other, Options{})
	big, err := f.Watch(context.Background(), tree, Options{Recursive: true})
	must(t, err)
	if _, nw := inotifyWatches(t); nw != watches0+1+1+10+folders {
		t.Fatalf("%d descriptors armed, want %d", nw-watches0, 1+1+10+folders)
	}
	big.Close()
	if _, nw := inotifyWatches(t); nw != watches0+1 {
		t.Fatalf("after closing the tree's watch: %d descriptors, want 1", nw-watches0)
	}
	p := filepath.Join(other, "f")
	must(t, os.WriteFile(p, nil, 0o644))
	waitFor(t, keep, OpCreate, p)
}
