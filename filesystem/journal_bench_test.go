package filesystem

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// BenchmarkJournalRecordAWrite: what the journal adds to every atomic
// write (recording its temporary file, then forgetting it).
func BenchmarkJournalRecordAWrite(b *testing.B) {
	j, err := openJournal(b.TempDir(), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	p := "/workspace/project/src/.main.go." + processMark() + "0a1b2c3d-1" + tempSuffix
	for b.Loop() {
		j.done(j.add(p))
	}
}

// BenchmarkAtomicSmallWrite: a 1 KiB atomic write (temporary file, fsync,
// rename, fsync of the folder), with and without the journal: the journal
// must be lost in the cost of the write itself.
func BenchmarkAtomicSmallWrite(b *testing.B) {
	content := strings.Repeat("x", 1<<10)
	for _, withJournal := range []bool{false, true} {
		name := "no-journal"
		if withJournal {
			name = "journal"
		}
		b.Run(name, func(b *testing.B) {
			f, err := New(Config{WorkingDir: b.TempDir(), UploadDir: b.TempDir(), JournalDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if !withJournal {
				f.writes.journal.close()
				f.writes.journal = nil
			}
			dest := filepath.Join(f.WorkingDir(), "f.txt")
			for b.Loop() {
				if _, err := f.WriteFile(dest, strings.NewReader(content), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
