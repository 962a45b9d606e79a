package filesystem

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// retainedCount is how many ended writes r keeps for the watches.
func retainedCount(r *inflightWrites) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.retained)
}

func TestInflightWritesNamesAreOursAndUnique(t *testing.T) {
	a, b := newInflightWrites(nil), newInflightWrites(nil)
	seen := map[string]bool{}
	for _, r := range []*inflightWrites{a, b, a, b} {
		w := r.begin("/d", "/d/file.txt")
		if !isDaemonTemp(w.name) || filepath.Dir(w.path) != "/d" {
			t.Errorf("temporary %q (%s) is not recognisable as ours", w.name, w.path)
		}
		if seen[w.name] {
			t.Errorf("name %q given twice", w.name)
		}
		seen[w.name] = true
		r.end(w)
	}
	long := a.begin("/d", "/d/"+string(make([]byte, 300)))
	if len(long.name) > maxNameLen {
		t.Errorf("a temporary name of %d bytes, past NAME_MAX", len(long.name))
	}
}

func TestInflightWritesRetention(t *testing.T) {
	tests := []struct {
		name       string
		watches    int
		writes     int
		wantKept   int
		wantFirst  bool // the first write is still known
		wantLatest bool // the latest one is
	}{
		{name: "no watch: nothing is kept", watches: 0, writes: 3, wantKept: 0},
		{name: "a watch: ended writes are kept", watches: 1, writes: 3, wantKept: 3, wantFirst: true, wantLatest: true},
		{name: "up to the bound, oldest out first", watches: 2, writes: maxRetainedWrites + 5, wantKept: maxRetainedWrites, wantLatest: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newInflightWrites(nil)
			for range tc.watches {
				r.watchStarted()
			}
			var first, latest *inflightWrite
			for i := range tc.writes {
				w := r.begin("/d", "/d/f")
				r.land(w, Landing{dest: "/d/f", Replaced: i > 0})
				if _, ok := r.landingOf(w.name); !ok {
					t.Fatalf("write %d unknown while in flight", i)
				}
				r.end(w)
				if first == nil {
					first = w
				}
				latest = w
			}
			if n := retainedCount(r); n != tc.wantKept {
				t.Errorf("%d writes kept, want %d", n, tc.wantKept)
			}
			if _, ok := r.landingOf(first.name); ok != tc.wantFirst {
				t.Errorf("first write known: %v, want %v", ok, tc.wantFirst)
			}
			l, ok := r.landingOf(latest.name)
			if ok != tc.wantLatest || ok && (!l.Landed || l.dest != "/d/f") {
				t.Errorf("latest write: %+v, %v; want known %v", l, ok, tc.wantLatest)
			}
			if l, ok := r.landedAt("/d/f"); ok != tc.wantLatest || ok && l != latest.landing {
				t.Errorf("landing at /d/f: %+v, %v; want the latest", l, ok)
			}
			for range tc.watches {
				r.watchEnded()
			}
			if n := retainedCount(r); n != 0 || len(r.byTemp) != 0 || len(r.byDest) != 0 {
				t.Errorf("after the last watch: %d kept, %d names, %d landings; want none", n, len(r.byTemp), len(r.byDest))
			}
		})
	}
}

func TestInflightWritesUnland(t *testing.T) {
	r := newInflightWrites(nil)
	r.watchStarted()
	w := r.begin("/d", "/d/f")
	r.land(w, Landing{dest: "/d/f", Replaced: true})
	r.unland(w) // the rename failed
	if _, ok := r.landedAt("/d/f"); ok {
		t.Errorf("a failed landing is still known")
	}
	if l, ok := r.landingOf(w.name); !ok || l.Landed {
		t.Errorf("landing of the write after unland: %+v, %v; want known, not landed", l, ok)
	}
	r.end(w)
}

// A watch ending lets the registry forget: it keeps nothing while no watch
// runs (the watch package checks that a watch is counted from before it is
// armed until it is over).
func TestRegistryKeepsNothingWithoutWatches(t *testing.T) {
	f := newAtomicFS(t)
	dir := f.WorkingDir()
	f.WatchStarted()
	if _, err := f.WriteFile(filepath.Join(dir, "a.txt"), strings.NewReader("kept while watched"), nil); err != nil {
		t.Fatal(err)
	}
	if n := retainedCount(f.writes); n != 1 {
		t.Errorf("%d writes kept while a watch runs, want 1", n)
	}
	f.WatchEnded()
	if n := retainedCount(f.writes); n != 0 {
		t.Errorf("%d writes kept after the last watch ended", n)
	}
	if _, err := f.WriteFile(filepath.Join(dir, "b.txt"), strings.NewReader("no watch"), nil); err != nil {
		t.Fatal(err)
	}
	if n := retainedCount(f.writes); n != 0 {
		t.Errorf("%d writes kept with no watch", n)
	}
}

// What a watch learns of the FS's writes: the landing each recorded under
// its temporary name, and whether the file at a path is the one a write
// landed there, told by its identity.
func TestWatchesLearnTheLandings(t *testing.T) {
	f := newAtomicFS(t)
	dir := f.WorkingDir()
	dest := filepath.Join(dir, "a.txt")
	f.WatchStarted()
	defer f.WatchEnded()

	if _, ok := f.LandingOf(".a.txt.123.sandbox-api-tmp"); ok {
		t.Error("another process's temporary name is known")
	}
	if f.IsOwnTemp(".a.txt.123.sandbox-api-tmp") {
		t.Error("another process's temporary name is taken for ours")
	}
	for i, replaced := range []bool{false, true} {
		if _, err := f.WriteFile(dest, strings.NewReader("v"), nil); err != nil {
			t.Fatal(err)
		}
		l, ok := f.LandedHere(dest)
		if !ok || !l.Landed || l.Replaced != replaced {
			t.Errorf("write %d: landing %+v, %v; want landed, replaced %v", i, l, ok, replaced)
		}
	}
	// A file moved there since is not the one the write landed.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, dest); err != nil {
		t.Fatal(err)
	}
	if l, ok := f.LandedHere(dest); ok {
		t.Errorf("a file moved in since is taken for the landed one: %+v", l)
	}
	if _, ok := f.LandedHere(other); ok {
		t.Error("a path no write landed at has a landing")
	}

	w := f.writes.begin(dir, dest)
	defer f.writes.end(w)
	if !f.IsOwnTemp(w.name) {
		t.Errorf("the temporary name %q is not taken for ours", w.name)
	}
	if l, ok := f.LandingOf(w.name); !ok || l.Landed {
		t.Errorf("a write in flight: landing %+v, %v; want known, not landed yet", l, ok)
	}
}
