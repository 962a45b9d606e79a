package filesystem

// The journal of atomic writes in flight. A temporary file can be in any
// folder (beside its destination), so a crash of the daemon could leave one
// anywhere; the journal says where, and the next start removes it.
//
// Each daemon keeps its own journal file in Config.JournalDir, from its
// first atomic write on,
//
//	<JournalDir>/atomic-writes-<random>.journal
//
// locked (flock) for as long as the daemon runs, so that a start finds the
// journals of daemons that are gone (unlocked) and leaves those of a live one
// alone. The file is an array of fixed-size slots, one per write in flight:
// recording a write is one small pwrite into a free slot, forgetting it one
// 4-byte pwrite, so the cost per write is two syscalls and no fsync, and the
// file never grows past the most writes ever in flight at once.
//
// Not syncing means a crash of the daemon is covered (the kernel keeps what
// was written), a crash of the whole machine may not be: a temporary file
// whose record had not reached the disk then stays.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.uber.org/zap"
)

const (
	journalPrefix = "atomic-writes-"
	journalSuffix = ".journal"
	// journalNewSuffix marks a journal being set up: it is renamed to its
	// final name only once locked, so no other start mistakes it for the
	// journal of a daemon that is gone.
	journalNewSuffix = ".new"

	// A slot is a checksum, a length and a path. The checksum covers the
	// other two, so a record cut short by a crash is not read back; a free
	// slot has a zero checksum.
	slotHeader = 4 + 2
	slotSize   = slotHeader + maxPathLen
	// journalMagic makes the checksum of a valid record nonzero for every
	// practical purpose, zero being the mark of a free slot.
	journalMagic = 0x5a4d7e31
	// journalShrinkSlots: when no write is in flight and the file has grown
	// past this many slots, it is emptied.
	journalShrinkSlots = 64
)

// writeJournal is one daemon's journal file. The file is set up by the
// first write that needs it (create, lock, rename: three file-system
// operations that would otherwise stand between a start and its first
// answer, and most sandboxes serve a while before their first atomic write).
type writeJournal struct {
	dir  string
	log  *zap.Logger
	open sync.Once
	file *os.File // nil until the first add, and if it cannot be set up
	path string

	mu   sync.Mutex
	free []int // slots written before and free again
	next int   // the first slot never used
	used int   // slots holding a write in flight
}

// openJournal first cleans up after the daemons that are gone, removing the
// temporary files their journals list; the journal of its own in dir comes
// with the first add.
func openJournal(dir string, log *zap.Logger) (*writeJournal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the journal folder: %w", err)
	}
	recoverJournals(dir, log)
	return &writeJournal{dir: dir, log: log}, nil
}

// setUp creates and locks the journal file, once; on failure the writes go
// on unrecorded (only a crash would leave their files behind), as said in
// the log.
func (j *writeJournal) setUp() {
	j.open.Do(func() {
		f, path, err := createJournalFile(j.dir)
		if err != nil {
			j.log.Warn("no journal of atomic writes: temporary files a crash leaves behind will stay", zap.Error(err))
			return
		}
		j.file, j.path = f, path
	})
}

// createJournalFile makes a new journal in dir, locked, under its final name.
func createJournalFile(dir string) (*os.File, string, error) {
	f, err := os.CreateTemp(dir, journalPrefix+"*"+journalSuffix+journalNewSuffix)
	if err != nil {
		return nil, "", fmt.Errorf("create the journal of atomic writes in %s: %w", dir, err)
	}
	if ok, err := lockJournal(f); err != nil || !ok {
		_ = f.Close()
		_ = os.Remove(f.Name())
		if err == nil {
			err = errors.New("locked by another process")
		}
		return nil, "", fmt.Errorf("lock the journal of atomic writes %s: %w", f.Name(), err)
	}
	final := strings.TrimSuffix(f.Name(), journalNewSuffix)
	if err := os.Rename(f.Name(), final); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, "", fmt.Errorf("set up the journal of atomic writes %s: %w", final, err)
	}
	return f, final, nil
}

// add records the temporary file path and returns its slot, or -1 when it
// could not be recorded: the write goes on, only a crash now would leave the
// file behind.
func (j *writeJournal) add(path string) int {
	if j == nil || len(path) > maxPathLen {
		return -1 // the kernel refuses such a path anyway: no file to list
	}
	j.setUp()
	if j.file == nil {
		return -1
	}
	j.mu.Lock()
	slot := j.next
	if n := len(j.free); n > 0 {
		slot = j.free[n-1]
		j.free = j.free[:n-1]
	} else {
		j.next++
	}
	j.used++
	j.mu.Unlock()

	if _, err := j.file.WriteAt(encodeSlot(path), int64(slot)*slotSize); err != nil {
		j.log.Warn("cannot record a temporary file in the journal; a crash now would leave it behind",
			zap.String("temp", path), zap.Error(err))
		j.release(slot)
		return -1
	}
	return slot
}

// done forgets the write in slot: its temporary file is gone (renamed or
// removed).
func (j *writeJournal) done(slot int) {
	if j == nil || slot < 0 {
		return
	}
	var zero [4]byte
	if _, err := j.file.WriteAt(zero[:], int64(slot)*slotSize); err != nil {
		// The next start looks for a file that is gone: harmless.
		j.log.Warn("cannot clear a journal slot", zap.Int("slot", slot), zap.Error(err))
	}
	j.release(slot)
}

func (j *writeJournal) release(slot int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.free = append(j.free, slot)
	j.used--
	if j.used == 0 && j.next > journalShrinkSlots {
		// Every slot is free: nothing to keep, and the free list goes too.
		if err := j.file.Truncate(0); err == nil {
			j.free, j.next = nil, 0
		}
	}
}

// close ends the journal. An empty journal is removed; one that still lists
// writes (a shutdown that cut them) stays for the next start to clean.
func (j *writeJournal) close() {
	if j == nil {
		return
	}
	j.open.Do(func() {}) // no file set up from now on
	if j.file == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.used == 0 {
		_ = os.Remove(j.path)
	}
	_ = j.file.Close() // releases the lock
}

// encodeSlot is the record of path.
func encodeSlot(path string) []byte {
	b := make([]byte, slotHeader+len(path))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(path)))
	copy(b[slotHeader:], path)
	binary.LittleEndian.PutUint32(b, crc32.ChecksumIEEE(b[4:])^journalMagic)
	return b
}

// decodeSlot reads one slot; ok is false for a free or damaged one.
func decodeSlot(b []byte) (path string, ok bool) {
	if len(b) < slotHeader {
		return "", false
	}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	sum := binary.LittleEndian.Uint32(b)
	if sum == 0 || n == 0 || slotHeader+n > len(b) {
		return "", false
	}
	if crc32.ChecksumIEEE(b[4:slotHeader+n])^journalMagic != sum {
		return "", false
	}
	return string(b[slotHeader : slotHeader+n]), true
}

// recoverJournals removes what the journals of gone daemons in dir list,
// then the journals themselves. Journals still locked belong to a daemon
// that runs, and are left alone.
func recoverJournals(dir string, log *zap.Logger) {
	matches, err := filepath.Glob(filepath.Join(dir, journalPrefix+"*"+journalSuffix))
	if err != nil {
		return // only a malformed pattern fails, and this one is fixed
	}
	for _, name := range matches {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			continue // taken by another start meanwhile
		}
		ok, err := lockJournal(f)
		if err != nil || !ok {
			_ = f.Close()
			continue
		}
		removed := removeListed(f, log)
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("cannot remove the journal of an earlier daemon", zap.String("journal", name), zap.Error(err))
		}
		_ = f.Close()
		if removed > 0 {
			log.Info("removed temporary files an earlier daemon left behind", zap.String("journal", name), zap.Int("files", removed))
		}
	}
}

// removeListed removes the temporary files the journal lists and still
// exist, and returns how many. Only regular files with the shape of a
// temporary name are removed, whatever the journal says.
func removeListed(f *os.File, log *zap.Logger) int {
	removed := 0
	buf := make([]byte, slotSize)
	for off := int64(0); ; off += slotSize {
		n, err := f.ReadAt(buf, off)
		if path, ok := decodeSlot(buf[:n]); ok && filepath.IsAbs(path) && hasTempShape(filepath.Base(path)) {
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode().IsRegular() {
				if rerr := os.Remove(path); rerr == nil {
					removed++
				} else {
					log.Warn("cannot remove a temporary file left behind", zap.String("temp", path), zap.Error(rerr))
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Warn("cannot read a journal of atomic writes", zap.String("journal", f.Name()), zap.Error(err))
			}
			return removed
		}
	}
}
