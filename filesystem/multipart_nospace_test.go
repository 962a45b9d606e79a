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
