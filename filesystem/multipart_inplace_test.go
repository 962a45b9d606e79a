package filesystem

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// newInPlaceFS is an upload FS whose parts of 8 bytes or more set the
// stride, so that small parts go in place.
func newInPlaceFS(t *testing.T) (*FS, string) {
	t.Helper()
	f, uploadDir := newUploadFS(t, time.Hour)
	f.uploads.minStride = 8
	return f, uploadDir
}

// inodeOfPath is the inode number of the file at path.
func inodeOfPath(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// partRecord reads part n's record in the upload's folder.
func partRecord(t *testing.T, uploadDir, id string, n int) partMeta {
	t.Helper()
	var m partMeta
	if err := uploadReadJSON(filepath.Join(uploadDir, id, uploadPartFile(n)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// chunks cuts data into parts of size bytes, the last one shorter.
func chunks(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > size {
		out = append(out, data[:size])
		data = data[size:]
	}
	return append(out, data)
}

// The parts a client sends the SDK's way (all of one size but the last)
// land as the assembly file itself, whatever order they came in: the
// first one stored sets the stride and stays in a file of its own, to be
// copied into its slot at complete; the others are written in place.
func TestUploadInPlaceLandsTheAssemblyFile(t *testing.T) {
	data := randomBytes(7, 5*64+10)
	for _, tc := range []struct {
		name  string
		order []int // part numbers, in the order they are sent
	}{
		{"in order", []int{1, 2, 3, 4, 5, 6}},
		{"a middle part first", []int{3, 1, 6, 2, 5, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, uploadDir := newInPlaceFS(t)
			up := initiate(t, f, "sdk.bin", "0640")
			parts := chunks(data, 64)
			got := make([]UploadedPart, len(parts))
			for _, n := range tc.order {
				got[n-1] = putPart(t, f, up.ID, n, parts[n-1])
			}
			first := tc.order[0]
			for n := 1; n <= len(parts); n++ {
				inPlace := partRecord(t, uploadDir, up.ID, n).Data == uploadAssemblyFile
				if inPlace != (n != first) {
					t.Fatalf("part %d in place: %v, want %v (only the first part sent, %d, in a file of its own)", n, inPlace, n != first, first)
				}
			}
			asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
			if _, err := f.CompleteUpload(up.ID, listed(got...)); err != nil {
				t.Fatal(err)
			}
			wantFile(t, up.Path, data)
			if inodeOfPath(t, up.Path) != asm {
				t.Fatal("the destination is a copy, not the assembly file")
			}
			if info, _ := os.Stat(up.Path); info.Mode().Perm() != 0o640 {
				t.Fatalf("mode %v, want the upload's 0640", info.Mode().Perm())
			}
			wantEmptyDir(t, uploadDir)
			if entries, _ := os.ReadDir(f.WorkingDir()); len(entries) != 1 {
				t.Fatalf("working dir has %d entries, want the file only (no temporary link left)", len(entries))
			}
		})
	}
}

// Lists the assembly file cannot serve are copied, and give the same file:
// a gap between part numbers, a part shorter than the stride before the
// last one, a stride learnt from a short last part (the longer parts then
// outgrow their slots), a part past the last one listed still in place.
func TestUploadInPlaceFallsBackToACopy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sizes  map[int]int // part number: size, sent in increasing order of number
		first  int         // sent before the others
		listed []int
	}{
		{"gap", map[int]int{1: 16, 2: 16, 4: 16}, 0, []int{1, 2, 4}},
		{"short middle part", map[int]int{1: 16, 2: 9, 3: 16}, 0, []int{1, 2, 3}},
		{"stride from the last part", map[int]int{1: 16, 2: 16, 3: 10}, 3, []int{1, 2, 3}},
		{"a later part in place", map[int]int{1: 16, 2: 16, 3: 16}, 0, []int{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, uploadDir := newInPlaceFS(t)
			up := initiate(t, f, "copied.bin", "")
			all := map[int]UploadedPart{}
			send := func(n int) {
				all[n] = putPart(t, f, up.ID, n, randomBytes(uint64(n), tc.sizes[n]))
			}
			if tc.first != 0 {
				send(tc.first)
			}
			for n := 1; n <= 4; n++ {
				if _, ok := tc.sizes[n]; ok && n != tc.first {
					send(n)
				}
			}
			var want []byte
			var list []UploadedPart
			for _, n := range tc.listed {
				want = append(want, randomBytes(uint64(n), tc.sizes[n])...)
				list = append(list, all[n])
			}
			asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
			if _, err := f.CompleteUpload(up.ID, listed(list...)); err != nil {
				t.Fatal(err)
			}
			wantFile(t, up.Path, want)
			if inodeOfPath(t, up.Path) == asm {
				t.Fatal("the assembly file landed, want a copy")
			}
			wantEmptyDir(t, uploadDir)
		})
	}
}

// A part longer than its slot moves to a file of its own, its first bytes
// with it, and the part after it (in place) is untouched; whether it comes
// in one write or, as a network body does, in pieces, so that the slot
// already holds some of it when it outgrows it.
func TestUploadInPlacePartOutgrowsItsSlot(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inPieces bool // part 2's body read a byte at a time
	}{
		{"in one write", false},
		{"in pieces", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, uploadDir := newInPlaceFS(t)
			up := initiate(t, f, "spill.bin", "")
			p1 := putPart(t, f, up.ID, 1, randomBytes(1, 16)) // stride 16
			p3 := putPart(t, f, up.ID, 3, randomBytes(3, 16))
			var body io.Reader = bytes.NewReader(randomBytes(2, 40))
			if tc.inPieces {
				body = iotest.OneByteReader(body) // and no io.WriterTo
			}
			p2, err := f.UploadPart(up.ID, 2, body)
			if err != nil {
				t.Fatalf("UploadPart(2): %v", err)
			}
			if p2.Size != 40 || p2.ETag != md5Hex(randomBytes(2, 40)) {
				t.Fatalf("UploadPart(2) = %+v, want 40 bytes, etag %s", p2, md5Hex(randomBytes(2, 40)))
			}
			if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data == uploadAssemblyFile || rec.Size != 40 {
				t.Fatalf("part 2 record %+v, want 40 bytes in a file of its own", rec)
			}
			if rec := partRecord(t, uploadDir, up.ID, 3); rec.Data != uploadAssemblyFile {
				t.Fatalf("part 3 record %+v, want in place", rec)
			}
			if _, err := f.CompleteUpload(up.ID, listed(p1, p2, p3)); err != nil {
				t.Fatal(err)
			}
			wantFile(t, up.Path, bytes.Join([][]byte{randomBytes(1, 16), randomBytes(2, 40), randomBytes(3, 16)}, nil))
		})
	}
}

// A version in place is never written over while it is current: a re-sent
// part goes to a file of its own, and one that fails leaves the version in
// place whole. Complete copies the winning version into the slot.
func TestUploadInPlaceResentParts(t *testing.T) {
	f, uploadDir := newInPlaceFS(t)
	up := initiate(t, f, "resent.bin", "")
	p1 := putPart(t, f, up.ID, 1, randomBytes(1, 16))
	p2 := putPart(t, f, up.ID, 2, randomBytes(2, 16))
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data != uploadAssemblyFile {
		t.Fatalf("part 2 record %+v, want in place", rec)
	}
	if _, err := f.UploadPart(up.ID, 2, &failingReader{n: 12}); !errors.Is(err, ErrUploadPartBody) {
		t.Fatalf("cut-off part: %v, want ErrUploadPartBody", err)
	}
	p3 := putPart(t, f, up.ID, 3, randomBytes(3, 5))
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2, p3)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, bytes.Join([][]byte{randomBytes(1, 16), randomBytes(2, 16), randomBytes(3, 5)}, nil))

	up = initiate(t, f, "resent2.bin", "")
	p1 = putPart(t, f, up.ID, 1, randomBytes(1, 16))
	putPart(t, f, up.ID, 2, randomBytes(2, 16))
	p2 = putPart(t, f, up.ID, 2, randomBytes(22, 16))
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data == uploadAssemblyFile {
		t.Fatalf("the re-sent part 2 went in place over the current version: %+v", rec)
	}
	asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, append(randomBytes(1, 16), randomBytes(22, 16)...))
	if inodeOfPath(t, up.Path) != asm {
		t.Fatal("the destination is a copy, not the assembly file")
	}
}

// While a part is being written in place, complete copies (the file it
// writes into cannot land), and parts sent while complete holds the upload
// go to files of their own.
func TestUploadInPlaceWritersAndComplete(t *testing.T) {
	f, uploadDir := newInPlaceFS(t)
	up := initiate(t, f, "busy.bin", "")
	p1 := putPart(t, f, up.ID, 1, randomBytes(1, 16))
	p2 := putPart(t, f, up.ID, 2, randomBytes(2, 16))
	// A writer of part 5 holds its slot.
	if !f.uploads.claims.claim(up.ID, 5) {
		t.Fatal("slot 5 is not free")
	}
	asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2)); err != nil {
		t.Fatal(err)
	}
	f.uploads.claims.release(up.ID, 5)
	wantFile(t, up.Path, append(randomBytes(1, 16), randomBytes(2, 16)...))
	if inodeOfPath(t, up.Path) == asm {
		t.Fatal("the assembly file landed while a part was being written into it")
	}

	up = initiate(t, f, "sealed.bin", "")
	putPart(t, f, up.ID, 1, randomBytes(1, 16))
	f.uploads.claims.seal(up.ID)
	putPart(t, f, up.ID, 2, randomBytes(2, 16))
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data == uploadAssemblyFile {
		t.Fatalf("a part sent while complete holds the upload went in place: %+v", rec)
	}
	f.uploads.claims.unseal(up.ID)
	putPart(t, f, up.ID, 3, randomBytes(3, 16))
	if rec := partRecord(t, uploadDir, up.ID, 3); rec.Data != uploadAssemblyFile {
		t.Fatalf("part 3 record %+v, want in place once complete let go", rec)
	}
}

// A complete that fails to land keeps the upload whole, its slots
// included, for a retry; and a restarted daemon completes it in place.
func TestUploadInPlaceFailedCompleteAndRestart(t *testing.T) {
	cfg := uploadConfig(t)
	uploadDir := cfg.UploadDir
	f1 := openFS(t, cfg)
	f1.uploads.minStride = 8
	up := initiate(t, f1, "retry.bin", "")
	p1 := putPart(t, f1, up.ID, 1, randomBytes(1, 16))
	p2 := putPart(t, f1, up.ID, 2, randomBytes(2, 16))
	p3 := putPart(t, f1, up.ID, 3, randomBytes(3, 16))
	if err := os.Mkdir(up.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	// Listing only parts 1 and 2 would cut part 3 off the file: it copies.
	for _, list := range [][]UploadedPart{{p1, p2, p3}, {p1, p2}} {
		if _, err := f1.CompleteUpload(up.ID, listed(list...)); !errors.Is(err, ErrInvalidUpload) {
			t.Fatalf("complete onto a folder: %v, want ErrInvalidUpload", err)
		}
	}
	if entries, _ := os.ReadDir(cfg.WorkingDir); len(entries) != 1 {
		t.Fatalf("working dir has %d entries, want the folder only (no temporary link left)", len(entries))
	}
	f1.Close()
	if err := os.Remove(up.Path); err != nil {
		t.Fatal(err)
	}

	f2 := openFS(t, cfg)
	p4 := putPart(t, f2, up.ID, 4, randomBytes(4, 3))
	if rec := partRecord(t, uploadDir, up.ID, 4); rec.Data != uploadAssemblyFile {
		t.Fatalf("part 4 after a restart: %+v, want in place (the stride is on disk)", rec)
	}
	asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
	if _, err := f2.CompleteUpload(up.ID, listed(p1, p2, p3, p4)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, bytes.Join([][]byte{randomBytes(1, 16), randomBytes(2, 16), randomBytes(3, 16), randomBytes(4, 3)}, nil))
	if inodeOfPath(t, up.Path) != asm {
		t.Fatal("the destination is a copy, not the assembly file")
	}
	wantEmptyDir(t, uploadDir)
}

// Parallel parts and parallel versions of them, all of one size, share
// the assembly file and never mix: each part's etag matches the bytes
// that land.
func TestUploadInPlaceParallelVersions(t *testing.T) {
	f, _ := newInPlaceFS(t)
	up := initiate(t, f, "parallel.bin", "")
	const parts, versions, size = 24, 3, 4096
	version := func(n, v int) []byte { return randomBytes(uint64(n*10+v), size) }
	putVersionsAtOnce(t, f, up.ID, parts, versions, version)
	got, err := f.UploadParts(up.ID)
	if err != nil || len(got) != parts {
		t.Fatalf("%d parts listed (%v), want %d", len(got), err, parts)
	}
	var want []byte
	for _, p := range got {
		found := false
		for v := range versions {
			if b := version(p.Number, v); md5Hex(b) == p.ETag {
				want, found = append(want, b...), true
			}
		}
		if !found {
			t.Fatalf("part %d: etag %s is no version's md5", p.Number, p.ETag)
		}
	}
	if _, err := f.CompleteUpload(up.ID, listed(got...)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, want)
}

// At the default threshold, a first part of 1 MiB sets the stride (as the
// SDK's 5 MiB parts do) and a smaller one does not.
func TestUploadInPlaceDefaultThreshold(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "small-parts.bin", "")
	putPart(t, f, up.ID, 1, randomBytes(1, defaultMinStride-1))
	putPart(t, f, up.ID, 2, randomBytes(2, 10))
	if _, ok := uploadStride(filepath.Join(uploadDir, up.ID)); ok {
		t.Fatal("a part under the threshold set the stride")
	}

	up = initiate(t, f, "sdk-parts.bin", "")
	p1 := putPart(t, f, up.ID, 1, randomBytes(1, defaultMinStride))
	p2 := putPart(t, f, up.ID, 2, randomBytes(2, 10))
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data != uploadAssemblyFile || rec.Offset != defaultMinStride {
		t.Fatalf("part 2 record %+v, want in place at %d", rec, defaultMinStride)
	}
	asm := inodeOfPath(t, filepath.Join(uploadDir, up.ID, uploadAssemblyFile))
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, append(randomBytes(1, defaultMinStride), randomBytes(2, 10)...))
	if inodeOfPath(t, up.Path) != asm {
		t.Fatal("the destination is a copy, not the assembly file")
	}
}
