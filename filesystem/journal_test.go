package filesystem

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestJournalSlotEncoding(t *testing.T) {
	path := "/work/dir/.a.txt.x-1" + tempSuffix
	good := encodeSlot(path)
	tests := []struct {
		name   string
		slot   []byte
		want   string
		wantOK bool
	}{
		{name: "a record reads back", slot: good, want: path, wantOK: true},
		{name: "with the rest of a longer old record after it", slot: append(append([]byte(nil), good...), "stale bytes"...), want: path, wantOK: true},
		{name: "a free slot", slot: make([]byte, slotSize)},
		{name: "a record cut short by a crash", slot: good[:len(good)-3]},
		{name: "a cleared record", slot: append(make([]byte, 4), good[4:]...)},
		{name: "a damaged record", slot: bytes.Replace(good, []byte("dir"), []byte("dIr"), 1)},
		{name: "too short for a header", slot: good[:3]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := decodeSlot(tc.slot)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("decodeSlot = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// crash leaves j as a killed daemon would: its file stays, its lock goes.
func crash(j *writeJournal) { _ = j.file.Close() }

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestJournalRecoveryRemovesWhatACrashLeft: a start removes the temporary
// files a gone daemon listed, and nothing else.
func TestJournalRecoveryRemovesWhatACrashLeft(t *testing.T) {
	jdir, a, b := t.TempDir(), t.TempDir(), t.TempDir()
	j, err := openJournal(jdir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	left := []string{filepath.Join(a, ".x.txt.dead-1"+tempSuffix), filepath.Join(b, ".y.txt.dead-2"+tempSuffix)}
	landed := filepath.Join(a, ".z.txt.dead-3"+tempSuffix) // its write ended; the name now is someone else's
	user := filepath.Join(a, "user-file.txt")              // not a temporary name: never removed
	folder := filepath.Join(b, ".dir.dead-4"+tempSuffix)   // not a regular file: never removed
	for _, p := range append(left, landed, user) {
		must(t, os.WriteFile(p, []byte("x"), 0o600))
	}
	must(t, os.Mkdir(folder, 0o755))
	for _, p := range append(left, user, folder) {
		if j.add(p) < 0 {
			t.Fatalf("%s not recorded", p)
		}
	}
	j.done(j.add(landed))
	crash(j)

	j2, err := openJournal(jdir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	for _, p := range left {
		if exists(p) {
			t.Errorf("%s is still there after the start", p)
		}
	}
	for _, p := range []string{landed, user, folder} {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}
	if exists(j.path) {
		t.Errorf("the gone daemon's journal is still there")
	}
	// Again: nothing left to do, nothing to fail.
	crash(j2)
	j3, err := openJournal(jdir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	j3.close()
	if entries, _ := os.ReadDir(jdir); len(entries) != 0 {
		t.Errorf("journal folder after clean starts and stops: %v", entries)
	}
}

// A daemon that runs keeps its journal locked: another start leaves its
// writes alone.
func TestJournalOfALiveDaemonIsLeftAlone(t *testing.T) {
	jdir, dir := t.TempDir(), t.TempDir()
	live, err := openJournal(jdir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer live.close()
	inFlight := filepath.Join(dir, ".a.live-1"+tempSuffix)
	must(t, os.WriteFile(inFlight, nil, 0o600))
	live.add(inFlight)

	other, err := openJournal(jdir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer other.close()
	if !exists(inFlight) || !exists(live.path) {
		t.Errorf("a start removed a live daemon's write in flight or its journal")
	}
}

// The journal grows with the writes in flight at once, not with all the
// writes ever made.
func TestJournalStaysSmall(t *testing.T) {
	j, err := openJournal(t.TempDir(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	size := func() int64 {
		fi, err := j.file.Stat()
		must(t, err)
		return fi.Size()
	}
	for i := range 10_000 {
		j.done(j.add("/d/.f.x-" + strings.Repeat("a", i%50) + tempSuffix))
	}
	if s := size(); s > slotSize {
		t.Errorf("after 10,000 writes one at a time the journal has %d bytes, want at most one slot", s)
	}
	var slots []int
	for range 2 * journalShrinkSlots {
		slots = append(slots, j.add("/d/.f.x-1"+tempSuffix))
	}
	if s := size(); s <= journalShrinkSlots*slotSize {
		t.Errorf("%d writes in flight fit in %d bytes?", len(slots), s)
	}
	for _, s := range slots {
		j.done(s)
	}
	if s := size(); s != 0 {
		t.Errorf("with nothing in flight the journal keeps %d bytes", s)
	}
}

// A path the kernel would refuse is not recorded (it would not fit a slot).
func TestJournalRefusesOverlongPaths(t *testing.T) {
	j, err := openJournal(t.TempDir(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if slot := j.add("/" + strings.Repeat("x", maxPathLen)); slot != -1 {
		t.Errorf("an overlong path got slot %d", slot)
	}
	if slot := j.add("/ok"); slot != 0 {
		t.Errorf("the next path got slot %d, want 0 (the refused one took none)", slot)
	}
}

// TestFSRemovesCrashLeftoversAtStart: an FS that dies mid-write leaves its
// temporary file; the next FS on the same journal folder removes it, and
// the file it was replacing is untouched.
func TestFSRemovesCrashLeftoversAtStart(t *testing.T) {
	jdir, dir := t.TempDir(), t.TempDir()
	dest := filepath.Join(dir, "f.txt")
	must(t, os.WriteFile(dest, []byte("old"), 0o644))
	first, err := New(Config{WorkingDir: dir, UploadDir: t.TempDir(), JournalDir: jdir})
	must(t, err)
	defer first.uploads.close()
	a, err := first.CreateAtomic(dest)
	must(t, err)
	_, err = a.Write([]byte("never committed"))
	must(t, err)
	temp := a.tmpPath
	crash(first.writes.journal)

	second, err := New(Config{WorkingDir: dir, UploadDir: t.TempDir(), JournalDir: jdir})
	must(t, err)
	defer second.Close()
	if _, err := os.Lstat(temp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the crash's temporary file %s: %v, want it removed", temp, err)
	}
	if got := filesRead(t, dest); got != "old" {
		t.Errorf("the destination reads %q", got)
	}
}

// The journal file comes with the first write it records, not with the
// start (three file-system operations off the way to serving), and a
// journal closed before any write leaves nothing behind.
func TestJournalFileComesWithTheFirstWrite(t *testing.T) {
	jdir := t.TempDir()
	j, err := openJournal(jdir, zap.NewNop())
	must(t, err)
	if entries, _ := os.ReadDir(jdir); len(entries) != 0 {
		t.Fatalf("journal folder before any write: %v, want empty", entries)
	}
	slot := j.add("/d/.f.x-1" + tempSuffix)
	if slot != 0 || !exists(j.path) {
		t.Fatalf("first write: slot %d, journal %q exists %v", slot, j.path, exists(j.path))
	}
	j.done(slot)
	j.close()

	unused, err := openJournal(jdir, zap.NewNop())
	must(t, err)
	unused.close()
	if slot := unused.add("/d/.f.x-2" + tempSuffix); slot != -1 {
		t.Errorf("a closed journal recorded a write in slot %d", slot)
	}
	if entries, _ := os.ReadDir(jdir); len(entries) != 0 {
		t.Errorf("journal folder after two clean stops: %v, want empty", entries)
	}
}
