package filesystem

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
)

// TestMultipartDiskFullIsErrNoSpace: the upload store reports a full disk
// as ErrNoSpace, like every other write, with the system's message kept,
// and never as the client's body.
func TestMultipartDiskFullIsErrNoSpace(t *testing.T) {
	uploadDir := testdisk.Small(t, "1m")
	f, err := New(Config{WorkingDir: t.TempDir(), UploadDir: uploadDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)

	up := initiate(t, f, "big.bin", "")
	_, err = f.UploadPart(up.ID, 1, bytes.NewReader(make([]byte, 4<<20)))
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrUploadPartBody) {
		t.Fatalf("a 4 MiB part on a 1 MiB disk = %v, want ErrNoSpace, not ErrUploadPartBody", err)
	}
	if !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("the message lost the system's words: %v", err)
	}

	// The disk full before anything is stored: an initiate cannot write
	// its record either.
	filler, err := os.Create(filepath.Join(uploadDir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = filler.Write(make([]byte, 2<<20)) // stops at the disk's end
	filler.Close()
	if _, err := f.InitiateUpload("other.bin", ""); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("initiate on a full disk = %v, want ErrNoSpace", err)
	}
}

// An upload folder on a disk of its own: parts written in place that
// fill it are ErrNoSpace too, the parts before them intact, and complete,
// unable to link the assembly file across file systems, copies it.
func TestMultipartInPlaceOnADiskOfItsOwn(t *testing.T) {
	uploadDir := testdisk.Small(t, "2m")
	f, err := New(Config{WorkingDir: t.TempDir(), UploadDir: uploadDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	f.uploads.minStride = 8

	up := initiate(t, f, "across.bin", "")
	p1 := putPart(t, f, up.ID, 1, randomBytes(1, 16))
	p2 := putPart(t, f, up.ID, 2, randomBytes(2, 16))
	p3 := putPart(t, f, up.ID, 3, randomBytes(3, 5))
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data != uploadAssemblyFile {
		t.Fatalf("part 2 record %+v, want in place", rec)
	}
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2, p3)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, bytes.Join([][]byte{randomBytes(1, 16), randomBytes(2, 16), randomBytes(3, 5)}, nil))
	wantEmptyDir(t, uploadDir)

	up = initiate(t, f, "full.bin", "")
	putPart(t, f, up.ID, 1, randomBytes(1, 768<<10))
	putPart(t, f, up.ID, 2, randomBytes(2, 768<<10))
	_, err = f.UploadPart(up.ID, 3, bytes.NewReader(randomBytes(3, 768<<10)))
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrUploadPartBody) {
		t.Fatalf("a part in place past the disk's end = %v, want ErrNoSpace, not ErrUploadPartBody", err)
	}
	if rec := partRecord(t, uploadDir, up.ID, 2); rec.Data != uploadAssemblyFile {
		t.Fatalf("part 2 record %+v, want in place", rec)
	}
	if parts := mustParts(t, f, up.ID); len(parts) != 2 || parts[1].ETag != md5Hex(randomBytes(2, 768<<10)) {
		t.Fatalf("parts after the full disk = %+v, want parts 1 and 2 as they were", parts)
	}
}
