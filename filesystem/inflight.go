package filesystem

import (
	"os"
	"sync"
	"sync/atomic"
)

// inflightWrites is what the atomic writes of an FS tell its watches. An
// atomic write creates a temporary file, fills it, and renames it over its
// destination; inotify sees a CREATE, WRITEs and a CHMOD of the temporary
// name, then a move to the destination. A watch should see none of that but
// what an in-place write shows: a WRITE of a file that existed, a CREATE then
// a WRITE of a new one. The temporary names are recognisable by themselves
// (isDaemonTemp); what the watch cannot know from the events is whether the
// destination existed, and that is what the writer records here, keyed by
// the temporary name, before its rename.
//
// inotify events reach a watch after the fact, possibly long after a small
// write ended. So, while any watch runs, an ended write stays known for a
// while: the last maxRetainedWrites of them are kept. A watch that falls
// further behind than that sees a replaced file as a new one (CREATE, WRITE).
// While no watch runs nothing is kept: no one can see the events any more.
type inflightWrites struct {
	// id is this registry's part of the temporary names, drawn on the
	// first write: a draw from crypto/rand in New would be on every
	// start's way to the first answer (see processMark).
	id      func() string
	seq     atomic.Uint64
	journal *writeJournal // nil when there is none: crash leftovers then stay

	mu       sync.Mutex
	byTemp   map[string]*inflightWrite // by temporary base name: in flight or retained
	byDest   map[string]*inflightWrite // the latest landing at each destination path, while known
	retained []*inflightWrite          // ended writes kept for watches that lag, oldest first
	watches  int                       // watches running
}

// maxRetainedWrites bounds the ended writes kept for the watches: a few
// hundred KB. A watch this many writes behind has most likely lost events to
// its queue limits already.
const maxRetainedWrites = 4096

// inflightWrite is one atomic write.
type inflightWrite struct {
	name string // base name of the temporary file
	path string // path of the temporary file
	slot int    // its journal slot, -1 if none

	// Set by land, before the rename.
	landing Landing
}

// Landing is what a watch needs to report the rename of an atomic write's
// temporary file as the in-place write it stands for.
type Landing struct {
	Landed   bool // the rename is about to happen (or happened)
	Replaced bool // a file was there: the rename is a WRITE of it

	dest     string // where the file lands
	ino, dev uint64 // identity of the landed file
}

func newInflightWrites(journal *writeJournal) *inflightWrites {
	return &inflightWrites{
		id:      sync.OnceValue(func() string { return randomHex(4) }),
		journal: journal,
		byTemp:  map[string]*inflightWrite{},
		byDest:  map[string]*inflightWrite{},
	}
}

// begin registers a new write into dir for dest and returns it, with the
// temporary path to create. It is registered and journaled before the file
// exists, so every event of the file finds it.
func (r *inflightWrites) begin(dir, dest string) *inflightWrite {
	name := tempName(dest, r.id(), r.seq.Add(1))
	w := &inflightWrite{name: name, path: joinAbs(dir, name)}
	w.slot = r.journal.add(w.path)
	r.mu.Lock()
	r.byTemp[name] = w
	r.mu.Unlock()
	return w
}

// land records where w is about to be renamed to, before the rename.
func (r *inflightWrites) land(w *inflightWrite, l Landing) {
	l.Landed = true
	r.mu.Lock()
	defer r.mu.Unlock()
	w.landing = l
	r.byDest[l.dest] = w
}

// unland takes back land when the rename failed.
func (r *inflightWrites) unland(w *inflightWrite) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byDest[w.landing.dest] == w {
		delete(r.byDest, w.landing.dest)
	}
	w.landing = Landing{}
}

// end is called once w's temporary file is gone, renamed or removed.
func (r *inflightWrites) end(w *inflightWrite) {
	r.journal.done(w.slot)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watches == 0 {
		r.forgetLocked(w)
		return
	}
	r.retained = append(r.retained, w)
	if len(r.retained) > maxRetainedWrites {
		r.forgetLocked(r.retained[0])
		r.retained[0] = nil
		r.retained = r.retained[1:]
	}
}

func (r *inflightWrites) forgetLocked(w *inflightWrite) {
	if r.byTemp[w.name] == w {
		delete(r.byTemp, w.name)
	}
	if w.landing.Landed && r.byDest[w.landing.dest] == w {
		delete(r.byDest, w.landing.dest)
	}
}

// landingOf is what the writer of the temporary file name recorded; ok is
// false when the write is unknown (another process's, or long forgotten),
// landed false while it has not been renamed.
func (r *inflightWrites) landingOf(name string) (Landing, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.byTemp[name]
	if !ok {
		return Landing{}, false
	}
	return w.landing, true
}

// landedAt is the latest known landing at dest. Only the caller can tell,
// from the file's identity, whether the file there is still that one.
func (r *inflightWrites) landedAt(dest string) (Landing, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.byDest[dest]
	if !ok {
		return Landing{}, false
	}
	return w.landing, true
}

// watchStarted and watchEnded count the watches: ended writes are kept only
// while one runs. watchStarted must be called before the watch adds its
// first inotify watch, so a rename it can see is always retained.
func (r *inflightWrites) watchStarted() {
	r.mu.Lock()
	r.watches++
	r.mu.Unlock()
}

func (r *inflightWrites) watchEnded() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watches--
	if r.watches > 0 {
		return
	}
	for _, w := range r.retained {
		r.forgetLocked(w)
	}
	r.retained = nil
}

// What the watch package consults (its Files interface): an FS's watches
// report its atomic writes as in-place writes.

// IsOwnTemp reports whether name (a base name) is the temporary file of one
// of this process's atomic writes: a watch never reports those.
func (f *FS) IsOwnTemp(name string) bool { return isDaemonTemp(name) }

// LandingOf is what the write whose temporary file is named name recorded;
// ok is false when the write is unknown (another process's, or forgotten),
// Landed false while it has not been renamed.
func (f *FS) LandingOf(name string) (Landing, bool) { return f.writes.landingOf(name) }

// LandedHere tells whether the file now at path is the one an atomic write
// landed there, by its identity: a file moved there from elsewhere since is
// not.
func (f *FS) LandedHere(path string) (Landing, bool) {
	l, ok := f.writes.landedAt(path)
	if !ok || !l.Landed {
		return Landing{}, false
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return Landing{}, false
	}
	ino, dev, ok := inodeOf(fi)
	if !ok || ino != l.ino || dev != l.dev {
		return Landing{}, false
	}
	return l, true
}

// WatchStarted and WatchEnded count the watches of the FS: ended writes are
// kept only while one runs. A watch calls WatchStarted before it adds its
// first inotify watch, so that every rename it can see is retained.
func (f *FS) WatchStarted() { f.writes.watchStarted() }

// WatchEnded is called once per WatchStarted, when the watch is over.
func (f *FS) WatchEnded() { f.writes.watchEnded() }
