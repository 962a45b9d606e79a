//go:build linux

package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// watchGuard bounds every wait for an event: a hang fails the test (the
// tests' one policy, testsupport.HangGuard).
const watchGuard = testsupport.HangGuard

// FS is a file system and its watches, wired as the daemon wires them: a
// test writes through the one and watches through the other.
type FS struct {
	*filesystem.FS
	*Service
}

func newWatchFS(t *testing.T) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	f, err := filesystem.New(filesystem.Config{WorkingDir: dir, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return &FS{FS: f, Service: New(f, Config{})}, dir
}

func startWatching(t *testing.T, f *FS, path string, opts Options) *Watcher {
	t.Helper()
	w, err := f.Watch(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Watch(%q): %v", path, err)
	}
	t.Cleanup(w.Close)
	return w
}

// receive waits for w's next event, as a reader of Ready and Take does:
// ok is false when the watch ended, hung true when guard fired first.
func receive(w *Watcher, guard <-chan time.Time) (ev Event, ok, hung bool) {
	var one [1]Event
	for {
		n, open := w.Take(one[:])
		switch {
		case n == 1:
			return one[0], true, false
		case !open:
			return Event{}, false, false
		}
		select {
		case <-w.Ready():
		case <-guard:
			return Event{}, false, true
		}
	}
}

// nextEvent returns the next event, failing on a hang or the end.
func nextEvent(t *testing.T, w *Watcher) Event {
	t.Helper()
	ev, ok, hung := receive(w, time.After(watchGuard))
	switch {
	case hung:
		t.Fatalf("no event within %s", watchGuard)
	case !ok:
		t.Fatal("the watch ended early")
	}
	return ev
}

// waitFor reads events until one has op and path, returning those seen
// before it.
func waitFor(t *testing.T, w *Watcher, op Op, path string) []Event {
	t.Helper()
	var seen []Event
	deadline := time.After(watchGuard)
	for {
		ev, ok, hung := receive(w, deadline)
		switch {
		case hung:
			t.Fatalf("no %s %s within %s; saw %v", op, path, watchGuard, seen)
		case !ok:
			t.Fatalf("the watch ended before %s %s; saw %v", op, path, seen)
		case ev.Op == op && ev.Path == path:
			return seen
		}
		seen = append(seen, ev)
	}
}

// waitEnd reads events until the watch ends, returning them.
func waitEnd(t *testing.T, w *Watcher) []Event {
	t.Helper()
	var seen []Event
	deadline := time.After(watchGuard)
	for {
		ev, ok, hung := receive(w, deadline)
		switch {
		case hung:
			t.Fatalf("the watch did not end within %s; saw %v", watchGuard, seen)
		case !ok:
			return seen
		}
		seen = append(seen, ev)
	}
}

// appendTo writes once to the end of a file: exactly one IN_MODIFY (a
// truncating write would add one of its own).
func appendTo(path, data string) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = file.WriteString(data)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// marker is written last in a test: once its event arrives, every event of
// what was done before it has been read.
func marker(t *testing.T, w *Watcher, dir string) []Event {
	t.Helper()
	p := filepath.Join(dir, "zz-marker")
	must(t, os.WriteFile(p, nil, 0o644))
	return waitFor(t, w, OpCreate, p)
}

// inotifyWatches counts the inotify instances of this process and the
// watches they hold, from /proc/self/fdinfo.
func inotifyWatches(t *testing.T) (instances, watches int) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil || target != "anon_inode:inotify" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		instances++
		watches += strings.Count(string(info), "inotify wd:")
	}
	return instances, watches
}

func TestWatchReportsEachOperation(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
		act   func(dir string) error
		want  []Event // in order; paths relative to the folder
	}{
		{
			name: "create",
			act:  func(d string) error { return os.WriteFile(filepath.Join(d, "a.txt"), nil, 0o644) },
			want: []Event{{Op: OpCreate, Path: "a.txt"}},
		},
		{
			name:  "write",
			setup: func(d string) error { return os.WriteFile(filepath.Join(d, "a.txt"), nil, 0o644) },
			act:   func(d string) error { return appendTo(filepath.Join(d, "a.txt"), "hello") },
			want:  []Event{{Op: OpWrite, Path: "a.txt"}},
		},
		{
			name:  "remove",
			setup: func(d string) error { return os.WriteFile(filepath.Join(d, "a.txt"), nil, 0o644) },
			act:   func(d string) error { return os.Remove(filepath.Join(d, "a.txt")) },
			want:  []Event{{Op: OpRemove, Path: "a.txt"}},
		},
		{
			name:  "rename",
			setup: func(d string) error { return os.WriteFile(filepath.Join(d, "a.txt"), nil, 0o644) },
			act:   func(d string) error { return os.Rename(filepath.Join(d, "a.txt"), filepath.Join(d, "b.txt")) },
			want:  []Event{{Op: OpRename, Path: "a.txt"}, {Op: OpCreate, Path: "b.txt"}},
		},
		{
			name:  "chmod",
			setup: func(d string) error { return os.WriteFile(filepath.Join(d, "a.txt"), nil, 0o644) },
			act:   func(d string) error { return os.Chmod(filepath.Join(d, "a.txt"), 0o600) },
			want:  []Event{{Op: OpChmod, Path: "a.txt"}},
		},
		{
			name: "folder",
			act:  func(d string) error { return os.Mkdir(filepath.Join(d, "sub"), 0o755) },
			want: []Event{{Op: OpCreate, Path: "sub"}},
		},
		{
			name: "unicode and spaces",
			act:  func(d string) error { return os.WriteFile(filepath.Join(d, "é #?.txt"), nil, 0o644) },
			want: []Event{{Op: OpCreate, Path: "é #?.txt"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, dir := newWatchFS(t)
			if tc.setup != nil {
				must(t, tc.setup(dir))
			}
			w := startWatching(t, f, "", Options{}) // "" is the working directory
			must(t, tc.act(dir))
			got := marker(t, w, dir)
			var want []Event
			for _, ev := range tc.want {
				want = append(want, Event{Op: ev.Op, Path: filepath.Join(dir, ev.Path)})
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events %v, want %v", got, want)
			}
		})
	}
}

func TestEventQueueDropsInOrderWithNotices(t *testing.T) {
	ev := func(i int) Event { return Event{Op: OpCreate, Path: "/r/" + strconv.Itoa(i)} }
	notice := func(n int) string { return "notice:" + strconv.Itoa(n) }
	tests := []struct {
		name  string
		limit int
		steps string // p: push the next event, o: pop one into the result
		want  []string
	}{
		{"fits", 3, "pppooo", []string{"/r/1", "/r/2", "/r/3"}},
		{"drops then tells", 2, "ppppoooo", []string{"/r/1", "/r/2", notice(2)}},
		{"notice in place", 2, "pppop" + "ooo", []string{"/r/1", "/r/2", notice(1), "/r/4"}},
		{"notices add up", 1, "ppp" + "o" + "pp" + "oooo", []string{"/r/1", notice(2), "/r/4", notice(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newEventQueue("/r", tc.limit)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // pop must not wait: an empty queue answers at once
			var got []string
			next := 0
			for _, step := range tc.steps {
				if step == 'p' {
					next++
					q.push(ev(next))
					continue
				}
				e, ok := q.pop(ctx)
				switch {
				case !ok:
				case e.Op == OpError:
					n, _, _ := strings.Cut(e.Err, " ")
					count, _ := strconv.Atoi(n)
					got = append(got, notice(count))
				default:
					got = append(got, e.Path)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if len(q.items) != 0 || q.waiting != 0 || q.dropped != 0 {
				t.Errorf("left in the queue: %d items, %d waiting, %d dropped", len(q.items), q.waiting, q.dropped)
			}
		})
	}
}

func TestEventQueueDeliversQueuedEventsAfterClose(t *testing.T) {
	q := newEventQueue("/r", 4)
	q.push(Event{Op: OpWrite, Path: "/r/a"})
	q.close()
	q.push(Event{Op: OpWrite, Path: "/r/late"}) // after close: dropped silently
	if e, ok := q.pop(context.Background()); !ok || e.Path != "/r/a" {
		t.Fatalf("pop = %v, %v; want the event queued before close", e, ok)
	}
	if e, ok := q.pop(context.Background()); ok {
		t.Fatalf("pop after the end = %v", e)
	}
}

// A take hands over what waits, in order and notices included, as much as
// fits; what did not fit is taken next, with no new signal needed.
func TestEventQueueTakeHandsOverWhatWaits(t *testing.T) {
	ev := func(i int) Event { return Event{Op: OpCreate, Path: "/r/" + strconv.Itoa(i)} }
	q := newEventQueue("/r", 4)
	for i := range 6 { // two too many: one notice
		q.push(ev(i))
	}
	<-q.ready // signalled by the pushes
	into := make([]Event, 3)
	var got []string
	for {
		n, open := q.take(into)
		if !open {
			t.Fatal("the queue ended before it was closed")
		}
		for _, e := range into[:n] {
			got = append(got, string(e.Op)+" "+e.Path)
		}
		if n < len(into) {
			break
		}
	}
	want := []string{"CREATE /r/0", "CREATE /r/1", "CREATE /r/2", "CREATE /r/3", "ERROR /r"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("took %q, want %q", got, want)
	}
	if n, open := q.take(into); n != 0 || !open {
		t.Fatalf("take of an empty queue = %d, %v; want 0, open", n, open)
	}
	q.push(ev(7))
	q.close()
	if n, open := q.take(into); n != 1 || into[0].Path != "/r/7" || open {
		t.Fatalf("take after close = %d %v, open %v; want the last event and the end", n, into[:n], open)
	}
}

// Events that wait together are taken together: a stream writes them out
// with one write.
func TestWatchTakeGetsEveryWaitingEvent(t *testing.T) {
	f, dir := newWatchFS(t)
	w := startWatching(t, f, dir, Options{})
	const files = 5
	for i := range files {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), nil, 0o644))
	}
	testsupport.Until(t, "every event queued", func() bool {
		w.queue.mu.Lock()
		defer w.queue.mu.Unlock()
		return w.queue.waiting == files
	})
	into := make([]Event, 2*files)
	n, open := w.Take(into)
	if !open || n != files {
		t.Fatalf("Take = %d, %v; want %d, open", n, open, files)
	}
	for i, ev := range into[:n] {
		if want := filepath.Join(dir, fmt.Sprintf("f%d", i)); ev.Op != OpCreate || ev.Path != want {
			t.Errorf("event %d: %v, want CREATE %s", i, ev, want)
		}
	}
}

func TestWatchNonRecursiveIgnoresSubfolders(t *testing.T) {
	f, dir := newWatchFS(t)
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	w := startWatching(t, f, dir, Options{})
	must(t, os.WriteFile(filepath.Join(dir, "sub", "deep.txt"), nil, 0o644))
	// The folder's own mtime changes are not reported; its content is not watched.
	if got := marker(t, w, dir); len(got) != 0 {
		t.Errorf("events from a subfolder of a plain watch: %v", got)
	}
}

func TestWatchRecursiveExistingTree(t *testing.T) {
	f, dir := newWatchFS(t)
	deep := filepath.Join(dir, "a", "b", "c")
	must(t, os.MkdirAll(deep, 0o755))
	must(t, os.WriteFile(filepath.Join(deep, "f.txt"), nil, 0o644))
	w := startWatching(t, f, dir, Options{Recursive: true})
	must(t, os.WriteFile(filepath.Join(deep, "f.txt"), []byte("x"), 0o644))
	if seen := waitFor(t, w, OpWrite, filepath.Join(deep, "f.txt")); len(seen) != 0 {
		t.Errorf("events before the write: %v", seen)
	}
}

// A folder made with its content at once (mkdir -p, an unpacked archive)
// has entries before its watch exists: the scan after adding it reports
// them, so nothing is missed, and later changes deep inside are seen too.
func TestWatchRecursiveNewFolderWithFilesCreatedImmediately(t *testing.T) {
	f, dir := newWatchFS(t)
	w := startWatching(t, f, dir, Options{Recursive: true})
	var files []string
	for _, sub := range []string{"a", "a/b", "a/b/c", "a/b/c/d"} {
		p := filepath.Join(dir, sub)
		must(t, os.MkdirAll(p, 0o755))
		for i := range 3 {
			file := filepath.Join(p, "f"+strconv.Itoa(i))
			must(t, os.WriteFile(file, []byte("x"), 0o644))
			files = append(files, file)
		}
	}
	seen := marker(t, w, dir)
	created := map[string]bool{}
	for _, ev := range seen {
		if ev.Op == OpCreate {
			created[ev.Path] = true
		}
	}
	for _, sub := range []string{"a", "a/b", "a/b/c", "a/b/c/d"} {
		if !created[filepath.Join(dir, sub)] {
			t.Errorf("no CREATE for folder %s", sub)
		}
	}
	for _, file := range files {
		if !created[file] {
			t.Errorf("no CREATE for %s", file)
		}
	}
	deepest := filepath.Join(dir, "a/b/c/d/f0")
	must(t, os.WriteFile(deepest, []byte("again"), 0o644))
	waitFor(t, w, OpWrite, deepest)
}

// A folder moved within the tree is followed under its new path; one moved
// out or removed is no longer watched.
func TestWatchRecursiveFollowsMovedAndRemovedFolders(t *testing.T) {
	f, dir := newWatchFS(t)
	outside := t.TempDir()
	for _, sub := range []string{"keep/in", "away/in", "gone/in"} {
		must(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
	}
	_, before := inotifyWatches(t)
	w := startWatching(t, f, dir, Options{Recursive: true})
	if _, n := inotifyWatches(t); n-before != 7 { // the root and six folders
		t.Fatalf("%d watches for a tree of 7 folders", n-before)
	}

	must(t, os.Rename(filepath.Join(dir, "keep"), filepath.Join(dir, "kept")))
	must(t, os.Rename(filepath.Join(dir, "away"), filepath.Join(outside, "away")))
	must(t, os.RemoveAll(filepath.Join(dir, "gone")))
	marker(t, w, dir)
	if _, n := inotifyWatches(t); n-before != 3 { // root, kept, kept/in
		t.Errorf("%d watches after moving and removing two subtrees, want 3", n-before)
	}

	// A change outside, in the moved-away tree, is not reported under the old path.
	must(t, os.WriteFile(filepath.Join(outside, "away", "in", "x"), nil, 0o644))
	renamed := filepath.Join(dir, "kept", "in", "y")
	must(t, os.WriteFile(renamed, nil, 0o644))
	if seen := waitFor(t, w, OpCreate, renamed); len(seen) != 0 {
		t.Errorf("unexpected events: %v", seen)
	}
}

func TestWatchIgnore(t *testing.T) {
	f, dir := newWatchFS(t)
	must(t, os.MkdirAll(filepath.Join(dir, "node_modules", "pkg"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "src"), 0o755))
	_, before := inotifyWatches(t)
	w := startWatching(t, f, dir, Options{Recursive: true, Ignore: []string{"node_modules", " ", "", ".swp"}})
	if _, n := inotifyWatches(t); n-before != 2 { // the root and src: ignored folders cost no watch
		t.Errorf("%d watches, want 2", n-before)
	}
	must(t, os.WriteFile(filepath.Join(dir, "node_modules", "pkg", "index.js"), nil, 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "src", "node_modules"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "src", "node_modules", "x.js"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "src", "a.go.swp"), nil, 0o644))
	kept := filepath.Join(dir, "src", "a.go")
	must(t, os.WriteFile(kept, nil, 0o644))
	// Empty and blank patterns must not match everything.
	if seen := waitFor(t, w, OpCreate, kept); len(seen) != 0 {
		t.Errorf("ignored paths were reported: %v", seen)
	}
}

func TestWatchCancelReleasesInotify(t *testing.T) {
	f, dir := newWatchFS(t)
	must(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	inst0, watches0 := inotifyWatches(t)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := f.Watch(ctx, dir, Options{Recursive: true})
	must(t, err)
	if inst, n := inotifyWatches(t); inst != inst0+1 || n != watches0+3 {
		t.Fatalf("armed watch: %d instances, %d watches; want %d, %d", inst, n, inst0+1, watches0+3)
	}
	cancel()
	waitEnd(t, w)
	w.Close() // waits for the release; a second call is harmless
	if inst, n := inotifyWatches(t); inst != inst0 || n != watches0 {
		t.Errorf("after cancel: %d instances, %d watches; want %d, %d", inst, n, inst0, watches0)
	}
}

func TestWatchCloseWhileBusy(t *testing.T) {
	f, dir := newWatchFS(t)
	w := startWatching(t, f, dir, Options{Recursive: true, Buffer: 16})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // keeps the watcher busy while it is closed
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i%50)), []byte("x"), 0o644)
		}
	}()
	nextEvent(t, w)
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(watchGuard):
		t.Fatal("Close hung while events were flowing")
	}
	close(stop)
	<-done
	waitEnd(t, w)
}

// A reader that does not keep up loses events, never memory: the queue
// holds Buffer events, then one ERROR event says how many were dropped, in
// their place, and the watch goes on.
func TestWatchOverflowDropsWithOneNotice(t *testing.T) {
	f, dir := newWatchFS(t)
	const buffer, files = 8, 100
	w := startWatching(t, f, dir, Options{Buffer: buffer})
	for i := range files {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), nil, 0o644))
	}
	// Wait until the watch has dealt with every event, without reading any:
	// queued, dropped, or counted in a queued notice. Nothing stands between
	// the queue and its reader, so no event is anywhere else.
	testsupport.Eventually(t, func() (bool, string) {
		w.queue.mu.Lock()
		defer w.queue.mu.Unlock()
		accounted := w.queue.waiting + w.queue.dropped
		for _, it := range w.queue.items {
			if it.notice {
				n, _, _ := strings.Cut(it.v.Err, " ")
				count, _ := strconv.Atoi(n)
				accounted += count
			}
		}
		return accounted == files, fmt.Sprintf("the watch handled %d of %d events", accounted, files)
	})
	var creates, lost int
	var notices []Event
	for creates+lost < files {
		ev := nextEvent(t, w)
		switch ev.Op {
		case OpCreate:
			creates++
		case OpError:
			notices = append(notices, ev)
			n, _, ok := strings.Cut(ev.Err, " events were dropped")
			count, err := strconv.Atoi(n)
			if !ok || err != nil {
				t.Fatalf("notice %q does not start with a count", ev.Err)
			}
			lost += count
		default:
			t.Fatalf("unexpected %v", ev)
		}
	}
	// The first events fill the queue; every later one is counted in the
	// one notice.
	if creates != buffer || len(notices) != 1 || lost != files-buffer {
		t.Errorf("%d creates, %d lost in notices %v; want %d creates and one notice of the other %d", creates, lost, notices, buffer, files-buffer)
	}
	// The watch goes on.
	after := filepath.Join(dir, "after")
	must(t, os.WriteFile(after, nil, 0o644))
	waitFor(t, w, OpCreate, after)
}

func TestWatchFile(t *testing.T) {
	f, dir := newWatchFS(t)
	file := filepath.Join(dir, "single.txt")
	must(t, os.WriteFile(file, nil, 0o644))
	inst0, _ := inotifyWatches(t)
	w := startWatching(t, f, "single.txt", Options{}) // relative to the working directory
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	waitFor(t, w, OpWrite, file)
	must(t, os.Remove(file))
	waitFor(t, w, OpRemove, file)
	rest := waitEnd(t, w) // the watch ends with its file, saying so
	if len(rest) == 0 || rest[len(rest)-1].Op != OpError || !strings.Contains(rest[len(rest)-1].Err, "is gone") {
		t.Errorf("end of a file watch: %v", rest)
	}
	w.Close()
	if inst, _ := inotifyWatches(t); inst != inst0 {
		t.Errorf("%d inotify instances after the watch ended, want %d", inst, inst0)
	}
}

func TestWatchRootMovedEndsTheWatch(t *testing.T) {
	f, dir := newWatchFS(t)
	root := filepath.Join(dir, "root")
	must(t, os.Mkdir(root, 0o755))
	w := startWatching(t, f, root, Options{Recursive: true})
	must(t, os.Rename(root, filepath.Join(dir, "elsewhere")))
	rest := waitEnd(t, w)
	if len(rest) != 2 || rest[0].Op != OpRename || rest[0].Path != root || rest[1].Op != OpError {
		t.Errorf("events %v; want RENAME of the root then an ERROR", rest)
	}
}

func TestWatchErrors(t *testing.T) {
	f, dir := newWatchFS(t)
	must(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	tests := []struct {
		path string
		want error
	}{
		{"missing", os.ErrNotExist},
		{filepath.Join(dir, "missing", "deeper"), os.ErrNotExist},
		{"file/below", syscall.ENOTDIR},
	}
	for _, tc := range tests {
		_, err := f.Watch(context.Background(), tc.path, Options{})
		if !errors.Is(err, tc.want) {
			t.Errorf("Watch(%q) = %v, want %v", tc.path, err, tc.want)
		}
	}
}

// envWatchLimitChild makes the test binary run TestWatchOutOfWatchesChild for
// real, inside a user namespace whose inotify watch limit it lowers.
const envWatchLimitChild = "SANDBOX_API_WATCH_LIMIT_CHILD"

// Running out of inotify watches must show as an error event (and as
// ErrLimit when not even the root can be watched), never as a silent
// gap or a hang. The limit is lowered for real in a user namespace of its own
// (a per-namespace limit since Linux 5.11), so no machine-wide setting moves.
func TestWatchOutOfWatches(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchOutOfWatchesChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envWatchLimitChild+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child in a user namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestWatchOutOfWatchesChild") {
		t.Fatalf("the child did not run the check:\n%s", out)
	}
}

func TestWatchOutOfWatchesChild(t *testing.T) {
	if os.Getenv(envWatchLimitChild) != "1" {
		return // only meaningful inside the namespace made by TestWatchOutOfWatches
	}
	const limit = 4
	must(t, os.WriteFile("/proc/sys/user/max_inotify_watches", []byte(strconv.Itoa(limit)), 0))
	f, dir := newWatchFS(t)
	for i := range 10 {
		must(t, os.MkdirAll(filepath.Join(dir, "d"+strconv.Itoa(i)), 0o755))
	}
	w := startWatching(t, f, dir, Options{Recursive: true})
	ev := nextEvent(t, w) // queued while arming, before any change
	if ev.Op != OpError || !strings.Contains(ev.Err, "max_user_watches") {
		t.Fatalf("first event %v, want an ERROR about max_user_watches", ev)
	}
	// The root is armed: changes there are still reported.
	top := filepath.Join(dir, "top.txt")
	must(t, os.WriteFile(top, nil, 0o644))
	waitFor(t, w, OpCreate, top)
	// A new folder that cannot be watched is reported too.
	newDir := filepath.Join(dir, "new")
	must(t, os.Mkdir(newDir, 0o755))
	waitFor(t, w, OpCreate, newDir)
	if ev := nextEvent(t, w); ev.Op != OpError || ev.Path != newDir {
		t.Fatalf("after a folder that cannot be watched: %v, want an ERROR for it", ev)
	}
	// A second watch of the same folder shares its descriptor: no new
	// watch is needed, and it sees changes.
	same := startWatching(t, f, dir, Options{})
	again := filepath.Join(dir, "again.txt")
	must(t, os.WriteFile(again, nil, 0o644))
	waitFor(t, same, OpCreate, again)
	// Not even the root of a watch of another folder: an error, not a stream.
	_, err := f.Watch(context.Background(), t.TempDir(), Options{})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("watch of another folder: %v, want ErrLimit", err)
	}
}
