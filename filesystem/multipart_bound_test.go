package filesystem

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func newBoundedUploadFS(t *testing.T, uploadDir string, max int) *FS {
	t.Helper()
	f, err := New(Config{WorkingDir: t.TempDir(), UploadDir: uploadDir, MaxUploads: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func TestInitiateIsBoundedByMaxUploads(t *testing.T) {
	uploadDir := filepath.Join(t.TempDir(), "uploads")
	f := newBoundedUploadFS(t, uploadDir, 3)
	var ups []MultipartUpload
	for i := range 3 {
		ups = append(ups, initiate(t, f, filepath.Join(f.WorkingDir(), "f", string(rune('a'+i))), ""))
	}
	if _, err := f.InitiateUpload("over", ""); !errors.Is(err, ErrTooManyUploads) {
		t.Fatalf("initiate past the bound: %v, want ErrTooManyUploads", err)
	}
	entries, _ := os.ReadDir(uploadDir)
	if len(entries) != 3 {
		t.Fatalf("%d entries in the upload folder after a refused initiate, want 3", len(entries))
	}

	// An abort and a completion each make room.
	if err := f.AbortUpload(ups[0].ID); err != nil {
		t.Fatal(err)
	}
	initiate(t, f, "after-abort", "")
	part := putPart(t, f, ups[1].ID, 1, []byte("data"))
	if _, err := f.CompleteUpload(ups[1].ID, []CompletedPart{{Number: 1, ETag: part.ETag}}); err != nil {
		t.Fatal(err)
	}
	initiate(t, f, "after-complete", "")
	if _, err := f.InitiateUpload("over", ""); !errors.Is(err, ErrTooManyUploads) {
		t.Fatalf("initiate past the bound again: %v, want ErrTooManyUploads", err)
	}

	// Uploads kept on disk by an earlier daemon count too.
	again := newBoundedUploadFS(t, uploadDir, 3)
	if _, err := again.InitiateUpload("over", ""); !errors.Is(err, ErrTooManyUploads) {
		t.Fatalf("initiate past the bound after a restart: %v, want ErrTooManyUploads", err)
	}
}

// TestInitiateBoundHoldsUnderConcurrency: parallel initiates never open
// more than the bound.
func TestInitiateBoundHoldsUnderConcurrency(t *testing.T) {
	uploadDir := filepath.Join(t.TempDir(), "uploads")
	f := newBoundedUploadFS(t, uploadDir, 5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 40 {
		wg.Go(func() {
			_, err := f.InitiateUpload("x", "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrTooManyUploads):
				refused++
			default:
				t.Errorf("initiate: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 5 || refused != 35 {
		t.Fatalf("%d initiates succeeded and %d were refused, want 5 and 35", ok, refused)
	}
	ups, err := f.Uploads()
	if err != nil || len(ups) != 5 {
		t.Fatalf("%d uploads listed (%v), want 5", len(ups), err)
	}
}

func TestDefaultMaxUploadsApplies(t *testing.T) {
	f, _ := newUploadFS(t, 0)
	if f.uploads.max != DefaultMaxUploads {
		t.Fatalf("bound %d, want DefaultMaxUploads %d", f.uploads.max, DefaultMaxUploads)
	}
}
