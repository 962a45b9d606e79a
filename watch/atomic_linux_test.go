package watch

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// atomicGuard bounds each wait of these tests for an event: a hang fails,
// a slow machine does not (the tests' one policy, testsupport.HangGuard).
const atomicGuard = testsupport.HangGuard

// eventsUntil reads w's events until op of path arrives, and returns those
// before it, as "OP name" with names relative to dir.
func eventsUntil(t *testing.T, w *Watcher, dir string, op Op, path string) []string {
	t.Helper()
	var seen []string
	guard := time.After(atomicGuard)
	for {
		ev, ok, hung := receive(w, guard)
		switch {
		case hung:
			t.Fatalf("no %s %s within %s; saw %v", op, path, atomicGuard, seen)
		case !ok:
			t.Fatalf("the watch ended before %s %s; saw %v", op, path, seen)
		case ev.Op == op && ev.Path == path:
			return seen
		}
		rel, err := filepath.Rel(dir, ev.Path)
		if err != nil {
			rel = ev.Path
		}
		seen = append(seen, string(ev.Op)+" "+rel+ev.Err)
	}
}

// eventsUntilEnd reads w's events until the watch ends.
func eventsUntilEnd(t *testing.T, w *Watcher) []Event {
	t.Helper()
	var seen []Event
	guard := time.After(atomicGuard)
	for {
		ev, ok, hung := receive(w, guard)
		switch {
		case hung:
			t.Fatalf("the watch did not end within %s; saw %v", atomicGuard, seen)
		case !ok:
			return seen
		}
		seen = append(seen, ev)
	}
}

// sentinel makes a known change in dir once the act is done: every event
// of the act comes before the sentinel's, and nothing else may.
func sentinel(t *testing.T, w *Watcher, dir string) []string {
	t.Helper()
	p := filepath.Join(dir, "zz-sentinel")
	must(t, os.WriteFile(p, nil, 0o644))
	return eventsUntil(t, w, dir, OpCreate, p)
}

func writeVia(t *testing.T, f *FS, p, content string) {
	t.Helper()
	if _, err := f.WriteFile(p, strings.NewReader(content), nil); err != nil {
		t.Fatal(err)
	}
}

// TestWatchSeesAtomicWritesAsInPlaceWrites: every write path of the daemon
// lands through a temporary file, and a watch of the folder sees only what
// an in-place write shows.
func TestWatchSeesAtomicWritesAsInPlaceWrites(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *FS, dir string)
		act   func(t *testing.T, f *FS, dir string)
		want  []string
	}{
		{
			name: "a new file is CREATE then WRITE",
			act:  func(t *testing.T, f *FS, dir string) { writeVia(t, f, filepath.Join(dir, "a.txt"), "new") },
			want: []string{"CREATE a.txt", "WRITE a.txt"},
		},
		{
			name: "an empty new file too",
			act:  func(t *testing.T, f *FS, dir string) { writeVia(t, f, filepath.Join(dir, "a.txt"), "") },
			want: []string{"CREATE a.txt", "WRITE a.txt"},
		},
		{
			name: "a replaced file is one WRITE",
			setup: func(t *testing.T, f *FS, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old"), 0o644))
			},
			act:  func(t *testing.T, f *FS, dir string) { writeVia(t, f, filepath.Join(dir, "a.txt"), "new") },
			want: []string{"WRITE a.txt"},
		},
		{
			name: "two writes, one new, one replacing",
			act: func(t *testing.T, f *FS, dir string) {
				writeVia(t, f, filepath.Join(dir, "a.txt"), "1")
				writeVia(t, f, filepath.Join(dir, "a.txt"), "2")
			},
			want: []string{"CREATE a.txt", "WRITE a.txt", "WRITE a.txt"},
		},
		{
			name: "an aborted write shows nothing",
			setup: func(t *testing.T, f *FS, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old"), 0o644))
			},
			act: func(t *testing.T, f *FS, dir string) {
				_, err := f.WriteFile(filepath.Join(dir, "a.txt"), io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), iotest.ErrReader(io.ErrUnexpectedEOF)), nil)
				if !errors.Is(err, filesystem.ErrSourceRead) {
					t.Fatalf("a cut-off write = %v", err)
				}
			},
			want: nil,
		},
		{
			name: "a completed multipart upload replacing a file is one WRITE",
			setup: func(t *testing.T, f *FS, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "big.bin"), []byte("old"), 0o644))
			},
			act: func(t *testing.T, f *FS, dir string) {
				up, err := f.InitiateUpload(filepath.Join(dir, "big.bin"), "")
				must(t, err)
				part, err := f.UploadPart(up.ID, 1, strings.NewReader("part one"))
				must(t, err)
				_, err = f.CompleteUpload(up.ID, []filesystem.CompletedPart{{Number: 1, ETag: part.ETag}})
				must(t, err)
			},
			want: []string{"WRITE big.bin"},
		},
		{
			name: "a multipart upload landed as its assembly file, replacing a file, is one WRITE",
			setup: func(t *testing.T, f *FS, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "big.bin"), []byte("old"), 0o644))
			},
			act: func(t *testing.T, f *FS, dir string) {
				uploadInPlace(t, f, filepath.Join(dir, "big.bin"))
			},
			want: []string{"WRITE big.bin"},
		},
		{
			name: "a new one is CREATE, WRITE",
			act: func(t *testing.T, f *FS, dir string) {
				uploadInPlace(t, f, filepath.Join(dir, "big.bin"))
			},
			want: []string{"CREATE big.bin", "WRITE big.bin"},
		},
		{
			name: "a file landed from a temporary file in another folder",
			act: func(t *testing.T, f *FS, dir string) {
				a, err := f.CreateAtomic(filepath.Join(t.TempDir(), "elsewhere"))
				must(t, err)
				defer a.Abort()
				_, err = a.Write([]byte("moved in"))
				must(t, err)
				must(t, a.CommitAs(filepath.Join(dir, "landed.txt"), nil))
			},
			want: []string{"CREATE landed.txt", "WRITE landed.txt"},
		},
		{
			name: "a user's file named like a temporary file is seen",
			act: func(t *testing.T, f *FS, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, ".a.txt.123.sandbox-api-tmp"), nil, 0o644))
			},
			want: []string{"CREATE .a.txt.123.sandbox-api-tmp"},
		},
		{
			name: "a user's rename over a file the daemon wrote stays a rename",
			act: func(t *testing.T, f *FS, dir string) {
				writeVia(t, f, filepath.Join(dir, "a.txt"), "daemon")
				must(t, os.WriteFile(filepath.Join(dir, "b.txt"), nil, 0o644))
				must(t, os.Rename(filepath.Join(dir, "b.txt"), filepath.Join(dir, "a.txt")))
			},
			want: []string{"CREATE a.txt", "WRITE a.txt", "CREATE b.txt", "RENAME b.txt", "CREATE a.txt"},
		},
		{
			name: "so is a move from outside over it",
			act: func(t *testing.T, f *FS, dir string) {
				writeVia(t, f, filepath.Join(dir, "a.txt"), "daemon")
				// The kernel merges an IN_MOVED_TO into the one before it when
				// nobody has read that one yet and only the cookie differs: an
				// event in between keeps the two moves apart, as they are
				// whenever the watch keeps up.
				must(t, os.WriteFile(filepath.Join(dir, "between"), nil, 0o644))
				outside := filepath.Join(t.TempDir(), "b.txt")
				must(t, os.WriteFile(outside, nil, 0o644))
				must(t, os.Rename(outside, filepath.Join(dir, "a.txt")))
			},
			want: []string{"CREATE a.txt", "WRITE a.txt", "CREATE between", "CREATE a.txt"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, dir := newWatchFS(t)
			if tc.setup != nil {
				tc.setup(t, f, dir)
			}
			w := startWatching(t, f, dir, Options{})
			tc.act(t, f, dir)
			if got := sentinel(t, w, dir); !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

// tempSuffix ends the temporary names of atomic writes (filesystem's
// tempname.go).
const tempSuffix = ".sandbox-api-tmp"

// A tree write lands files in folders that did not exist: their temporary
// files sit in an existing ancestor, and a recursive watch still sees each
// file as new, and no temporary name.
func TestWatchSeesATreeWriteAsNewFiles(t *testing.T) {
	f, dir := newWatchFS(t)
	w := startWatching(t, f, dir, Options{Recursive: true})
	_, err := f.WriteTree(dir, map[string]string{"x.txt": "1", "sub/deep/y.txt": "2"})
	must(t, err)
	got := sentinel(t, w, dir)
	for _, ev := range got {
		if strings.Contains(ev, tempSuffix) {
			t.Errorf("a temporary name was reported: %q", got)
		}
	}
	for _, file := range []string{"x.txt", "sub/deep/y.txt"} {
		created := slices.Index(got, "CREATE "+file)
		written := slices.Index(got, "WRITE "+file)
		if created < 0 || written < created {
			t.Errorf("events %q: want CREATE then WRITE of %s", got, file)
		}
	}
}

// The watch of a file goes on when the daemon replaces the file, which it
// sees as one WRITE; a removal still ends it.
func TestWatchOfAFileSurvivesAtomicReplace(t *testing.T) {
	f, dir := newWatchFS(t)
	file := filepath.Join(dir, "watched.txt")
	must(t, os.WriteFile(file, []byte("v0"), 0o644))
	w := startWatching(t, f, file, Options{})

	writeVia(t, f, file, "v1")
	writeVia(t, f, filepath.Join(dir, "other.txt"), "not this file")
	writeVia(t, f, file, "v2")
	must(t, os.Chmod(file, 0o600)) // the sentinel: a change of this file
	if got := eventsUntil(t, w, dir, OpChmod, file); !slices.Equal(got, []string{"WRITE watched.txt", "WRITE watched.txt"}) {
		t.Errorf("events %q, want two WRITEs of the file", got)
	}

	// Replaced by someone else's rename (an editor's save): a new file there.
	other := filepath.Join(dir, "save.tmp")
	must(t, os.WriteFile(other, []byte("v3"), 0o644))
	must(t, os.Rename(other, file))
	must(t, appendTo(file, "v4"))
	if got := eventsUntil(t, w, dir, OpWrite, file); !slices.Equal(got, []string{"CREATE watched.txt"}) {
		t.Errorf("after a rename over the file: %q, want CREATE", got)
	}

	must(t, os.Remove(file))
	rest := eventsUntil(t, w, dir, OpRemove, file)
	if len(rest) != 0 {
		t.Errorf("before the removal: %q", rest)
	}
	end := eventsUntilEnd(t, w)
	if len(end) != 1 || end[0].Op != OpError || !strings.Contains(end[0].Err, "is gone") {
		t.Errorf("after the removal: %v, want the end of the watch", end)
	}
}

// A watch through a symbolic link to a file watches the file itself.
func TestWatchOfALinkedFile(t *testing.T) {
	f, dir := newWatchFS(t)
	real := filepath.Join(dir, "real.txt")
	must(t, os.WriteFile(real, nil, 0o644))
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(real, link))
	w := startWatching(t, f, link, Options{})
	writeVia(t, f, link, "through the link") // replaces the file it points to
	must(t, appendTo(real, "in place"))
	if got := eventsUntil(t, w, dir, OpWrite, link); len(got) != 0 {
		t.Fatalf("before the first WRITE: %q", got)
	}
	if ev := nextEvent(t, w); ev.Op != OpWrite || ev.Path != link {
		t.Errorf("second event %v, want WRITE %s", ev, link)
	}
}

// TestAtomicEventTranslation feeds a watch inotify events as the kernel
// reports them, in cases a live test cannot produce at will: a watch that
// lags so far behind that the registry forgot the write, a move whose first
// half happened in a folder it does not watch.
func TestAtomicEventTranslation(t *testing.T) {
	const dirWD = 1
	type setup struct {
		ours    string // the temporary name of a write the registry knows, landing at a.txt
		unknown string // one of ours it forgot
	}
	tests := []struct {
		name     string
		replaced bool // the write the registry knows replaced a file
		since    bool // the file at its destination is not the one it landed
		events   func(s setup) []rawEvent
		want     []string
	}{
		{
			name: "a temporary name's own events are dropped",
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_CREATE, name: s.ours},
					{mask: syscall.IN_MODIFY, name: s.ours},
					{mask: syscall.IN_ATTRIB, name: s.ours},
					{mask: syscall.IN_DELETE, name: s.ours},
				}
			},
		},
		{
			name:     "its move over a file that was there is one WRITE",
			replaced: true,
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_CREATE, name: s.ours},
					{mask: syscall.IN_MOVED_FROM, cookie: 9, name: s.ours},
					{mask: syscall.IN_MOVED_TO, cookie: 9, name: "a.txt"},
				}
			},
			want: []string{"WRITE a.txt"},
		},
		{
			name: "its move to a new name is CREATE then WRITE",
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_MOVED_FROM, cookie: 9, name: s.ours},
					{mask: syscall.IN_MOVED_TO, cookie: 9, name: "a.txt"},
				}
			},
			want: []string{"CREATE a.txt", "WRITE a.txt"},
		},
		{
			name: "a forgotten write is reported as a new file",
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_CREATE, name: s.unknown},
					{mask: syscall.IN_MOVED_FROM, cookie: 4, name: s.unknown},
					{mask: syscall.IN_MOVED_TO, cookie: 4, name: "a.txt"},
				}
			},
			want: []string{"CREATE a.txt", "WRITE a.txt"},
		},
		{
			name:  "another process's temporary name is an ordinary file",
			since: true, // it moved its own file there
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_CREATE, name: ".a.txt.123.sandbox-api-tmp"},
					{mask: syscall.IN_MOVED_FROM, cookie: 3, name: ".a.txt.123.sandbox-api-tmp"},
					{mask: syscall.IN_MOVED_TO, cookie: 3, name: "a.txt"},
				}
			},
			want: []string{"CREATE .a.txt.123.sandbox-api-tmp", "RENAME .a.txt.123.sandbox-api-tmp", "CREATE a.txt"},
		},
		{
			name: "a move of another name keeps its cookie apart",
			events: func(s setup) []rawEvent {
				return []rawEvent{
					{mask: syscall.IN_MOVED_FROM, cookie: 9, name: s.ours},
					{mask: syscall.IN_MOVED_FROM, cookie: 10, name: "b.txt"},
					{mask: syscall.IN_MOVED_TO, cookie: 10, name: "c.txt"},
					{mask: syscall.IN_MOVED_TO, cookie: 9, name: "a.txt"},
				}
			},
			want: []string{"RENAME b.txt", "CREATE c.txt", "CREATE a.txt", "WRITE a.txt"},
		},
		{
			name:     "an unpaired move of the landed file is the landing",
			replaced: true,
			events: func(s setup) []rawEvent {
				return []rawEvent{{mask: syscall.IN_MOVED_TO, cookie: 5, name: "a.txt"}}
			},
			want: []string{"WRITE a.txt"},
		},
		{
			name:     "an unpaired move of another file there is not",
			replaced: true,
			since:    true,
			events: func(s setup) []rawEvent {
				return []rawEvent{{mask: syscall.IN_MOVED_TO, cookie: 5, name: "a.txt"}}
			},
			want: []string{"CREATE a.txt"},
		},
		{
			name: "an unpaired move elsewhere is an ordinary move",
			events: func(s setup) []rawEvent {
				return []rawEvent{{mask: syscall.IN_MOVED_TO, cookie: 5, name: "b.txt"}}
			},
			want: []string{"CREATE b.txt"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			reg := &madeUpWrites{
				ours:      ".a.txt.ours.sandbox-api-tmp",
				forgotten: ".a.txt.forgotten.sandbox-api-tmp",
				dest:      filepath.Join(dir, "a.txt"),
				landing:   filesystem.Landing{Landed: true, Replaced: tc.replaced},
				since:     tc.since,
			}

			q := newEventQueue(dir, 100)
			tw := &treeWatch{files: reg, root: dir, rootWD: dirWD, q: q, ctx: context.Background(),
				folder: map[int]string{}, wdOf: map[string]int{}}
			tw.track(dirWD, dir)
			for _, ev := range tc.events(setup{ours: reg.ours, unknown: reg.forgotten}) {
				ev.wd = dirWD
				if !tw.handle(ev) {
					t.Fatalf("the watch ended on %+v", ev)
				}
			}
			q.close()
			var got []string
			for {
				ev, ok := q.pop(context.Background())
				if !ok {
					break
				}
				got = append(got, string(ev.Op)+" "+filepath.Base(ev.Path))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

// madeUpWrites is a registry of atomic writes as a watch sees it: it knows
// one write, ours, landing at dest, and has forgotten another (ended while
// no watch ran). The rest of Files is not used by a treeWatch made by hand.
type madeUpWrites struct {
	Files
	ours, forgotten string // temporary names of the daemon's writes
	dest            string
	landing         filesystem.Landing // what ours recorded
	since           bool               // the file now at dest is not the one ours landed
}

func (r *madeUpWrites) IsOwnTemp(name string) bool { return name == r.ours || name == r.forgotten }

func (r *madeUpWrites) LandingOf(name string) (filesystem.Landing, bool) {
	if name == r.ours {
		return r.landing, true
	}
	return filesystem.Landing{}, false
}

func (r *madeUpWrites) LandedHere(path string) (filesystem.Landing, bool) {
	if path == r.dest && !r.since {
		return r.landing, true
	}
	return filesystem.Landing{}, false
}

// countedWatches counts the watches a Service reports to its Files.
type countedWatches struct {
	Files
	running atomic.Int32
}

func (c *countedWatches) WatchStarted() { c.running.Add(1); c.Files.WatchStarted() }
func (c *countedWatches) WatchEnded()   { c.running.Add(-1); c.Files.WatchEnded() }

// The context of a watch ending lets the registry forget (it keeps nothing
// while no watch runs, filesystem's TestRegistryKeepsNothingWithoutWatches):
// a watch is counted as running from before it is armed until it is over.
func TestWatchEndLetsTheRegistryForget(t *testing.T) {
	f, dir := newWatchFS(t)
	files := &countedWatches{Files: f.FS}
	s := New(files, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	w, err := s.Watch(ctx, dir, Options{})
	must(t, err)
	writeVia(t, f, filepath.Join(dir, "a.txt"), "kept while watched")
	if n := files.running.Load(); n != 1 {
		t.Errorf("%d watches running while a watch runs, want 1", n)
	}
	cancel()
	w.Close()
	if n := files.running.Load(); n != 0 {
		t.Errorf("%d watches running after the last watch ended", n)
	}
	if _, err := s.Watch(ctx, filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Fatal("a watch of a missing path started")
	}
	if n := files.running.Load(); n != 0 {
		t.Errorf("%d watches running after a watch that failed to start", n)
	}
}

// uploadInPlace uploads to dest in two parts, a first one of 1 MiB, which
// sets the upload's stride, and a short one written in place after it,
// so that complete lands the upload's assembly file itself.
func uploadInPlace(t *testing.T, f *FS, dest string) {
	t.Helper()
	up, err := f.InitiateUpload(dest, "")
	must(t, err)
	var list []filesystem.CompletedPart
	for n, size := range []int{1 << 20, 10} {
		part, err := f.UploadPart(up.ID, n+1, strings.NewReader(strings.Repeat("x", size)))
		must(t, err)
		list = append(list, filesystem.CompletedPart{Number: part.Number, ETag: part.ETag})
	}
	_, err = f.CompleteUpload(up.ID, list)
	must(t, err)
}
