package watch

import (
	"syscall"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// How a watch reports the daemon's own atomic writes (see AtomicWrites):
// every event of a temporary name is dropped, and its rename over the
// destination becomes what an in-place write would have shown: WRITE of a
// file that was there, CREATE then WRITE of a new one.
//
// The kernel reports a rename as IN_MOVED_FROM of the old name then
// IN_MOVED_TO of the new one, with the same cookie. The watch keeps the
// cookies of the temporary files it saw moved away until their IN_MOVED_TO.
// A move whose first half this watch did not see (the temporary file was in
// a folder it does not watch) is matched by the landed file's identity.

// atomicWrite handles ev, an event of the entry at path, if it belongs to an
// atomic write of the daemon, reporting it as report (path, or the root for
// the watch of a file); false leaves it to the ordinary translation.
func (tw *treeWatch) atomicWrite(ev rawEvent, path, report string) bool {
	if tw.files.IsOwnTemp(ev.name) {
		if ev.mask&syscall.IN_MOVED_FROM != 0 {
			l, _ := tw.files.LandingOf(ev.name) // unknown: reported as a new file
			tw.moves.put(ev.cookie, l)
		}
		return true
	}
	if ev.mask&syscall.IN_MOVED_TO == 0 || ev.mask&syscall.IN_ISDIR != 0 {
		return false
	}
	l, ok := tw.moves.take(ev.cookie)
	if !ok {
		if l, ok = tw.files.LandedHere(path); !ok {
			return false // a move of someone else's
		}
	}
	tw.reportLanding(report, l)
	return true
}

// reportLanding reports a file an atomic write landed at path.
func (tw *treeWatch) reportLanding(path string, l filesystem.Landing) {
	if !l.Landed || !l.Replaced {
		tw.emit(OpCreate, path)
	}
	tw.emit(OpWrite, path)
}

// moveMemoSize is how many moves of temporary files a watch waits for the
// second half of. The halves come together, save for a move into a folder
// the watch does not see (then the second half never comes), so a few are
// plenty; the oldest is forgotten first.
const moveMemoSize = 16

// moveMemo is the temporary files a watch saw moved away, by cookie.
type moveMemo struct {
	items [moveMemoSize]movedTemp
	next  int
}

type movedTemp struct {
	cookie uint32
	l      filesystem.Landing
	set    bool
}

func (m *moveMemo) put(cookie uint32, l filesystem.Landing) {
	m.items[m.next] = movedTemp{cookie: cookie, l: l, set: true}
	m.next = (m.next + 1) % moveMemoSize
}

// take returns and forgets the landing moved away with cookie.
func (m *moveMemo) take(cookie uint32) (filesystem.Landing, bool) {
	for i := range m.items {
		if it := &m.items[i]; it.set && it.cookie == cookie {
			l := it.l
			*it = movedTemp{}
			return l, true
		}
	}
	return filesystem.Landing{}, false
}
