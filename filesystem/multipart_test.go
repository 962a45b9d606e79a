package filesystem

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// newUploadFS is an FS with its own working and upload folders.
func newUploadFS(t *testing.T, ttl time.Duration) (*FS, string) {
	t.Helper()
	cfg := uploadConfig(t)
	cfg.UploadTTL = ttl
	return openFS(t, cfg), cfg.UploadDir
}

// uploadConfig is an FS configuration with fresh working and upload
// folders and an hour's TTL: each openFS of it is the same daemon's
// files after a restart.
func uploadConfig(t *testing.T) Config {
	return Config{WorkingDir: t.TempDir(), UploadDir: filepath.Join(t.TempDir(), "uploads"), UploadTTL: time.Hour}
}

// openFS starts an FS on cfg, closed with the test if not before (Close
// may come twice).
func openFS(t *testing.T, cfg Config) *FS {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// putVersionsAtOnce sends versions versions of parts 1..parts of upload
// id, all at the same time; data(n, v) is version v of part n.
func putVersionsAtOnce(t *testing.T, f *FS, id string, parts, versions int, data func(n, v int) []byte) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, parts*versions)
	for n := 1; n <= parts; n++ {
		for v := range versions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.UploadPart(id, n, bytes.NewReader(data(n, v))); err != nil {
					errs <- fmt.Errorf("part %d version %d: %w", n, v, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func initiate(t *testing.T, f *FS, path, perm string) MultipartUpload {
	t.Helper()
	up, err := f.InitiateUpload(path, perm)
	if err != nil {
		t.Fatalf("InitiateUpload(%q, %q): %v", path, perm, err)
	}
	return up
}

func putPart(t *testing.T, f *FS, id string, n int, data []byte) UploadedPart {
	t.Helper()
	p, err := f.UploadPart(id, n, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("UploadPart(%d): %v", n, err)
	}
	if p.Number != n || p.Size != int64(len(data)) || p.ETag != md5Hex(data) {
		t.Fatalf("UploadPart(%d) = %+v, want size %d etag %s", n, p, len(data), md5Hex(data))
	}
	return p
}

func listed(parts ...UploadedPart) []CompletedPart {
	out := make([]CompletedPart, len(parts))
	for i, p := range parts {
		out[i] = CompletedPart{Number: p.Number, ETag: p.ETag, Size: p.Size}
	}
	return out
}

// wantEmptyDir fails unless dir has no entries at all.
func wantEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("%s should be empty, has %v", dir, names)
	}
}

func wantFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes (md5 %s), want %d bytes (md5 %s)", path, len(got), md5Hex(got), len(want), md5Hex(want))
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestUploadOutOfOrderAssemblesInPartOrder(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	chunks := [][]byte{randomBytes(1, 1000), randomBytes(2, 7), randomBytes(3, 4096)}
	up := initiate(t, f, "deep/new/dir/out.bin", "0640")
	if want := filepath.Join(f.WorkingDir(), "deep/new/dir/out.bin"); up.Path != want {
		t.Fatalf("path %q, want %q (relative to the working dir)", up.Path, want)
	}
	if err := uploadCheckID(up.ID); err != nil {
		t.Fatalf("id %q: %v", up.ID, err)
	}
	p3 := putPart(t, f, up.ID, 3, chunks[2])
	p1 := putPart(t, f, up.ID, 1, chunks[0])
	p2 := putPart(t, f, up.ID, 2, chunks[1])

	path, err := f.CompleteUpload(up.ID, listed(p2, p3, p1)) // any order in the list
	if err != nil {
		t.Fatal(err)
	}
	if path != up.Path {
		t.Fatalf("completed at %q, want %q", path, up.Path)
	}
	wantFile(t, path, bytes.Join(chunks, nil))
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640", info.Mode().Perm())
	}
	wantEmptyDir(t, uploadDir)
	// No temporary file is left beside the result.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("destination folder has %d entries, want only the file", len(entries))
	}
	if _, err := f.UploadParts(up.ID); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("parts of a completed upload: %v, want ErrUploadNotFound", err)
	}
}

func TestUploadResentPartLastWins(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "/"+filepath.Join(f.WorkingDir(), "r.txt"), "")
	first := putPart(t, f, up.ID, 1, []byte("first version"))
	second := putPart(t, f, up.ID, 1, []byte("second"))
	if first.ETag == second.ETag {
		t.Fatal("test data: both versions have one etag")
	}
	parts, err := f.UploadParts(up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].ETag != second.ETag || parts[0].Size != 6 {
		t.Fatalf("parts = %+v, want only the second version", parts)
	}
	// The replaced version's data is gone: one data file, one record, the
	// upload's metadata.
	entries, _ := os.ReadDir(filepath.Join(uploadDir, up.ID))
	if len(entries) != 3 {
		t.Fatalf("upload folder has %d entries, want 3", len(entries))
	}
	if _, err := f.CompleteUpload(up.ID, listed(first)); !errors.Is(err, ErrInvalidUpload) || !strings.Contains(err.Error(), "part 1") {
		t.Fatalf("complete with the replaced etag: %v, want ErrInvalidUpload naming part 1", err)
	}
	if _, err := f.CompleteUpload(up.ID, listed(second)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, []byte("second"))
	if info, _ := os.Stat(up.Path); info.Mode().Perm() != 0o644 {
		t.Fatalf("default mode %v, want 0644", info.Mode().Perm())
	}
}

// Parallel parts, and parallel versions of the same parts, never mix: each
// part's etag always matches the bytes that get assembled.
func TestUploadParallelParts(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "parallel.bin", "")
	const parts, versions = 24, 3
	data := make([][]byte, parts+1)
	putVersionsAtOnce(t, f, up.ID, parts, versions, func(n, v int) []byte {
		return randomBytes(uint64(n*10+v), 20_000+n*100+v)
	})
	got, err := f.UploadParts(up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != parts {
		t.Fatalf("%d parts listed, want %d", len(got), parts)
	}
	// Which version won is up to the scheduler; find it by its size.
	for i, p := range got {
		if p.Number != i+1 {
			t.Fatalf("parts out of order: %+v", got)
		}
		v := int(p.Size) - 20_000 - p.Number*100
		if v < 0 || v >= versions {
			t.Fatalf("part %d has size %d, no version has", p.Number, p.Size)
		}
		data[p.Number] = randomBytes(uint64(p.Number*10+v), int(p.Size))
		if p.ETag != md5Hex(data[p.Number]) {
			t.Fatalf("part %d: etag %s is not the md5 of version %d", p.Number, p.ETag, v)
		}
	}
	// Replaced versions were removed: one data file and one record per part.
	entries, _ := os.ReadDir(filepath.Join(uploadDir, up.ID))
	if len(entries) != 2*parts+1 {
		t.Fatalf("upload folder has %d entries, want %d", len(entries), 2*parts+1)
	}
	if _, err := f.CompleteUpload(up.ID, listed(got...)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, bytes.Join(data[1:], nil))
	wantEmptyDir(t, uploadDir)
}

func TestUploadCompleteRejectsBadLists(t *testing.T) {
	f, _ := newUploadFS(t, time.Hour)
	up := initiate(t, f, "bad-lists.txt", "")
	p1 := putPart(t, f, up.ID, 1, []byte("one"))
	p2 := putPart(t, f, up.ID, 2, []byte("two"))
	wrong := p2
	wrong.ETag = md5Hex([]byte("not two"))
	quoted := p1
	quoted.ETag = `"` + strings.ToUpper(p1.ETag) + `"`
	bigger := p2
	bigger.Size++
	missing := UploadedPart{Number: 3, ETag: md5Hex([]byte("three"))}
	tests := []struct {
		name  string
		parts []CompletedPart
		want  string
	}{
		{"empty list", nil, "no parts"},
		{"wrong etag", listed(p1, wrong), "part 2: etag"},
		{"missing part", listed(p1, p2, missing), "part 3 was not uploaded"},
		{"wrong size", listed(p1, bigger), "part 2: size"},
		{"part listed twice", listed(p1, p2, p1), "part 1 is listed twice"},
		{"part number 0", []CompletedPart{{Number: 0, ETag: p1.ETag}}, "invalid part number 0"},
		{"part number 10001", []CompletedPart{{Number: 10001, ETag: p1.ETag}}, "invalid part number 10001"},
		{"empty etag", []CompletedPart{{Number: 1}}, "part 1: etag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.CompleteUpload(up.ID, tt.parts)
			if !errors.Is(err, ErrInvalidUpload) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInvalidUpload containing %q", err, tt.want)
			}
			if _, err := os.Stat(up.Path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a failed complete created the destination (%v)", err)
			}
		})
	}
	// The upload survived every failure; quoted upper-case etags, as S3
	// clients send them, are accepted.
	if _, err := f.CompleteUpload(up.ID, listed(quoted, p2)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, []byte("onetwo"))
}

func TestUploadPartNumbers(t *testing.T) {
	f, _ := newUploadFS(t, time.Hour)
	up := initiate(t, f, "numbers.txt", "")
	tests := []struct {
		n     int
		valid bool
	}{{-1, false}, {0, false}, {1, true}, {10000, true}, {10001, false}, {1 << 40, false}}
	for _, tt := range tests {
		_, err := f.UploadPart(up.ID, tt.n, strings.NewReader("x"))
		if tt.valid != (err == nil) || (!tt.valid && !errors.Is(err, ErrInvalidUpload)) {
			t.Errorf("part %d: %v, want valid=%v", tt.n, err, tt.valid)
		}
	}
}

func TestUploadIDsAreCheckedBeforeUse(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "ids.txt", "")
	bad := []string{
		"", "..", "../uploads", "/etc", strings.ToUpper(up.ID), up.ID + "/..", up.ID[:35],
		uploadStagingPrefix + up.ID, strings.ReplaceAll(up.ID, "-", "/"), "0000000g-0000-4000-8000-000000000000",
	}
	for _, id := range bad {
		if _, err := f.UploadPart(id, 1, strings.NewReader("x")); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("UploadPart(%q): %v, want ErrInvalidUpload", id, err)
		}
		if _, err := f.CompleteUpload(id, []CompletedPart{{Number: 1, ETag: "x"}}); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("CompleteUpload(%q): %v, want ErrInvalidUpload", id, err)
		}
		if err := f.AbortUpload(id); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("AbortUpload(%q): %v, want ErrInvalidUpload", id, err)
		}
		if _, err := f.UploadParts(id); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("UploadParts(%q): %v, want ErrInvalidUpload", id, err)
		}
	}
	unknown := newUploadID()
	if _, err := f.UploadPart(unknown, 1, strings.NewReader("x")); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("UploadPart(unknown): %v, want ErrUploadNotFound", err)
	}
	if _, err := f.CompleteUpload(unknown, []CompletedPart{{Number: 1, ETag: "x"}}); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("CompleteUpload(unknown): %v, want ErrUploadNotFound", err)
	}
	if err := f.AbortUpload(unknown); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("AbortUpload(unknown): %v, want ErrUploadNotFound", err)
	}
	if _, err := f.UploadParts(unknown); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("UploadParts(unknown): %v, want ErrUploadNotFound", err)
	}
	// Nothing but the one real upload ever appeared.
	entries, _ := os.ReadDir(uploadDir)
	if len(entries) != 1 || entries[0].Name() != up.ID {
		t.Fatalf("upload folder has %v, want only %s", entries, up.ID)
	}
}

func TestUploadInitiateRejects(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	if err := os.Mkdir(filepath.Join(f.WorkingDir(), "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, perm, want string }{
		{"", "", "path is required"},
		{"adir", "", "is a directory"},
		{"x", "999", "invalid permissions"},
		{"x", "rw-r--r--", "invalid permissions"},
		{"x", "17777", "invalid permissions"},
		{"x", "-644", "invalid permissions"},
	}
	for _, tt := range tests {
		_, err := f.InitiateUpload(tt.path, tt.perm)
		if !errors.Is(err, ErrInvalidUpload) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("InitiateUpload(%q, %q): %v, want ErrInvalidUpload containing %q", tt.path, tt.perm, err, tt.want)
		}
	}
	wantEmptyDir(t, uploadDir)
	for _, perm := range []string{"0644", "755", "0600", "4755", "0"} {
		if _, err := f.InitiateUpload("ok", perm); err != nil {
			t.Errorf("InitiateUpload(ok, %q): %v", perm, err)
		}
	}
}

func TestUploadAbortRemovesEverything(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "aborted.bin", "")
	putPart(t, f, up.ID, 1, randomBytes(9, 10_000))
	putPart(t, f, up.ID, 2, randomBytes(10, 10_000))
	if err := f.AbortUpload(up.ID); err != nil {
		t.Fatal(err)
	}
	wantEmptyDir(t, uploadDir)
	if _, err := os.Stat(up.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("abort created the destination (%v)", err)
	}
	if err := f.AbortUpload(up.ID); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("second abort: %v, want ErrUploadNotFound", err)
	}
	if _, err := f.UploadPart(up.ID, 3, strings.NewReader("late")); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("part after abort: %v, want ErrUploadNotFound", err)
	}
	wantEmptyDir(t, uploadDir)
}

func TestUploadListsUploadsAndParts(t *testing.T) {
	f, _ := newUploadFS(t, time.Hour)
	if ups, err := f.Uploads(); err != nil || ups == nil || len(ups) != 0 {
		t.Fatalf("Uploads() on an empty store = %v, %v; want an empty, non-nil list", ups, err)
	}
	a := initiate(t, f, "/tmp/a.bin", "0600")
	b := initiate(t, f, "b.bin", "")
	pa2 := putPart(t, f, a.ID, 2, []byte("a2"))
	pa1 := putPart(t, f, a.ID, 1, []byte("a-one"))
	pa10 := putPart(t, f, a.ID, 10, []byte("a10"))

	ups, err := f.Uploads()
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 || ups[0].ID != a.ID || ups[1].ID != b.ID {
		t.Fatalf("Uploads() = %+v, want a then b", ups)
	}
	if ups[0].Path != "/tmp/a.bin" || ups[0].Permissions != 0o600 || ups[1].Permissions != 0o644 {
		t.Fatalf("Uploads() = %+v: wrong path or permissions", ups)
	}
	if ups[0].InitiatedAt.IsZero() || ups[0].InitiatedAt.After(time.Now()) {
		t.Fatalf("initiatedAt %v", ups[0].InitiatedAt)
	}
	if len(ups[1].Parts) != 0 {
		t.Fatalf("b has parts %+v", ups[1].Parts)
	}
	want := []UploadedPart{pa1, pa2, pa10}
	for _, got := range [][]UploadedPart{ups[0].Parts, mustParts(t, f, a.ID)} {
		if len(got) != len(want) {
			t.Fatalf("parts = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].Number != want[i].Number || got[i].ETag != want[i].ETag || got[i].Size != want[i].Size || !got[i].UploadedAt.Equal(want[i].UploadedAt) {
				t.Fatalf("part %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	}
}

func mustParts(t *testing.T, f *FS, id string) []UploadedPart {
	t.Helper()
	p, err := f.UploadParts(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// failingReader gives n bytes, then fails like a client that went away.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'z'
	}
	r.n -= k
	return k, nil
}

func TestUploadCutOffPartKeepsThePreviousVersion(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "cut.bin", "")
	good := putPart(t, f, up.ID, 1, []byte("good"))
	_, err := f.UploadPart(up.ID, 1, &failingReader{n: 100_000})
	if !errors.Is(err, ErrUploadPartBody) {
		t.Fatalf("cut-off part: %v, want ErrUploadPartBody", err)
	}
	parts := mustParts(t, f, up.ID)
	if len(parts) != 1 || parts[0].ETag != good.ETag {
		t.Fatalf("parts = %+v, want the good version only", parts)
	}
	entries, _ := os.ReadDir(filepath.Join(uploadDir, up.ID))
	if len(entries) != 3 {
		t.Fatalf("upload folder has %d entries, want 3 (no leftover of the cut-off part)", len(entries))
	}
}

func TestUploadPartTooLarge(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	f.uploads.maxPart = 1000
	up := initiate(t, f, "big.bin", "")
	putPart(t, f, up.ID, 1, make([]byte, 1000)) // exactly the cap
	_, err := f.UploadPart(up.ID, 2, bytes.NewReader(make([]byte, 1001)))
	if !errors.Is(err, ErrUploadPartTooLarge) {
		t.Fatalf("part over the cap: %v, want ErrUploadPartTooLarge", err)
	}
	if parts := mustParts(t, f, up.ID); len(parts) != 1 {
		t.Fatalf("parts = %+v, want only part 1", parts)
	}
	entries, _ := os.ReadDir(filepath.Join(uploadDir, up.ID))
	if len(entries) != 3 {
		t.Fatalf("upload folder has %d entries, want 3", len(entries))
	}
}

func TestUploadFailedCompleteLeavesTheDestinationAlone(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	dest := filepath.Join(f.WorkingDir(), "kept.txt")
	if err := os.WriteFile(dest, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := initiate(t, f, dest, "")
	p1 := putPart(t, f, up.ID, 1, []byte("new "))
	p2 := putPart(t, f, up.ID, 2, []byte("content"))
	// Part 2's bytes vanish under the store (a disk error, say): the
	// assembly fails half-way.
	var rec partMeta
	if err := uploadReadJSON(filepath.Join(uploadDir, up.ID, uploadPartFile(2)), &rec); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(uploadDir, up.ID, rec.Data)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2)); err == nil {
		t.Fatal("complete without part 2's bytes succeeded")
	}
	wantFile(t, dest, []byte("old content"))
	entries, _ := os.ReadDir(f.WorkingDir())
	if len(entries) != 1 {
		t.Fatalf("working dir has %d entries, want only the old file (no temporary left)", len(entries))
	}
	if _, err := f.UploadParts(up.ID); err != nil {
		t.Fatalf("the upload should survive a failed complete: %v", err)
	}
	// Re-sending the part repairs the upload.
	p2 = putPart(t, f, up.ID, 2, []byte("content"))
	if _, err := f.CompleteUpload(up.ID, listed(p1, p2)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, dest, []byte("new content"))
}

// Complete lands the file as every write of the package does (see
// AtomicFile): no folder is left by a failure, and a link is written
// through.
func TestUploadCompleteLandsLikeAnyWrite(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	up := initiate(t, f, "new/folders/f.bin", "")
	p := putPart(t, f, up.ID, 1, []byte("x"))
	var rec partMeta
	if err := uploadReadJSON(filepath.Join(uploadDir, up.ID, uploadPartFile(1)), &rec); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(uploadDir, up.ID, rec.Data)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CompleteUpload(up.ID, listed(p)); err == nil {
		t.Fatal("complete without the part's bytes succeeded")
	}
	wantEmptyDir(t, f.WorkingDir())

	target := filepath.Join(f.WorkingDir(), "target.txt")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(f.WorkingDir(), "link.txt")
	if err := os.Symlink("target.txt", link); err != nil {
		t.Fatal(err)
	}
	up = initiate(t, f, link, "0640")
	p = putPart(t, f, up.ID, 1, []byte("new"))
	if _, err := f.CompleteUpload(up.ID, listed(p)); err != nil {
		t.Fatal(err)
	}
	if lst, err := os.Lstat(link); err != nil || lst.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced (%v)", err)
	}
	wantFile(t, target, []byte("new"))
	if info, _ := os.Stat(target); info.Mode().Perm() != 0o640 {
		t.Fatalf("target mode %v, want the upload's 0640", info.Mode().Perm())
	}
}

func TestUploadCompleteOntoAFolderFails(t *testing.T) {
	f, _ := newUploadFS(t, time.Hour)
	up := initiate(t, f, "later-a-dir", "")
	p := putPart(t, f, up.ID, 1, []byte("x"))
	if err := os.Mkdir(up.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CompleteUpload(up.ID, listed(p)); !errors.Is(err, ErrInvalidUpload) {
		t.Fatalf("complete onto a folder: %v, want ErrInvalidUpload", err)
	}
	// A file where a parent folder should be.
	up2 := initiate(t, f, "file/child", "")
	p = putPart(t, f, up2.ID, 1, []byte("x"))
	if err := os.WriteFile(filepath.Join(f.WorkingDir(), "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CompleteUpload(up2.ID, listed(p)); !errors.Is(err, ErrInvalidUpload) {
		t.Fatalf("complete under a file: %v, want ErrInvalidUpload", err)
	}
}

func TestUploadSweepRemovesOnlyExpiredUploads(t *testing.T) {
	f, uploadDir := newUploadFS(t, time.Hour)
	old := initiate(t, f, "old.bin", "")
	putPart(t, f, old.ID, 1, []byte("old"))
	fresh := initiate(t, f, "fresh.bin", "")
	longAgo := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(uploadDir, old.ID), longAgo, longAgo); err != nil {
		t.Fatal(err)
	}
	// A staging folder left by a crash expires too.
	crashed := filepath.Join(uploadDir, uploadStagingPrefix+newUploadID())
	if err := os.Mkdir(crashed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(crashed, longAgo, longAgo); err != nil {
		t.Fatal(err)
	}
	f.uploads.sweep()
	entries, _ := os.ReadDir(uploadDir)
	if len(entries) != 1 || entries[0].Name() != fresh.ID {
		t.Fatalf("after the sweep: %v, want only %s", entries, fresh.ID)
	}
	if _, err := f.UploadPart(old.ID, 2, strings.NewReader("late")); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("part of an expired upload: %v, want ErrUploadNotFound", err)
	}
}

// Uploads left by an earlier daemon expire under the new one's TTL, by the
// background sweep.
func TestUploadTTLSweepRunsInTheBackground(t *testing.T) {
	cfg := uploadConfig(t)
	uploadDir := cfg.UploadDir
	before := openFS(t, cfg)
	up := initiate(t, before, "ttl.bin", "")
	putPart(t, before, up.ID, 1, []byte("abandoned"))
	before.Close()

	cfg.UploadTTL = 50 * time.Millisecond
	f := openFS(t, cfg)
	testsupport.Eventually(t, func() (bool, string) {
		entries, err := os.ReadDir(uploadDir)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries) == 0, fmt.Sprintf("abandoned upload still there with a 50 ms TTL: %v", entries)
	})
	if err := f.AbortUpload(up.ID); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("abort of an expired upload: %v, want ErrUploadNotFound", err)
	}
}

func TestUploadSweepInterval(t *testing.T) {
	tests := []struct{ ttl, want time.Duration }{
		{time.Millisecond, 10 * time.Millisecond},
		{time.Second, 250 * time.Millisecond},
		{time.Hour, 10 * time.Minute},
		{24 * time.Hour, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := uploadSweepInterval(tt.ttl); got != tt.want {
			t.Errorf("uploadSweepInterval(%s) = %s, want %s", tt.ttl, got, tt.want)
		}
	}
}

func TestUploadSurvivesARestart(t *testing.T) {
	cfg := uploadConfig(t)
	uploadDir := cfg.UploadDir
	f1 := openFS(t, cfg)
	up := initiate(t, f1, "restart.txt", "0600")
	p1 := putPart(t, f1, up.ID, 1, []byte("before "))
	f1.Close()
	f1.Close() // idempotent

	f2 := openFS(t, cfg)
	p2 := putPart(t, f2, up.ID, 2, []byte("after"))
	if _, err := f2.CompleteUpload(up.ID, listed(p1, p2)); err != nil {
		t.Fatal(err)
	}
	wantFile(t, up.Path, []byte("before after"))
	wantEmptyDir(t, uploadDir)
}

func TestNewUploadIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newUploadID()
		if err := uploadCheckID(id); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("%q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}

func TestUploadPermissionsBits(t *testing.T) {
	tests := []struct {
		in   string
		bits uint32
		mode os.FileMode
	}{
		{"", 0o644, 0o644},
		{"0755", 0o755, 0o755},
		{"4755", 0o4755, os.ModeSetuid | 0o755},
		{"2750", 0o2750, os.ModeSetgid | 0o750},
		{"1777", 0o1777, os.ModeSticky | 0o777},
		{"0o755", 0o755, 0o755}, // as ParsePermissions reads it
	}
	for _, tt := range tests {
		bits, err := uploadParsePermissions(tt.in)
		if err != nil || bits != tt.bits || fileMode(bits) != tt.mode {
			t.Errorf("%q: bits %o mode %v err %v; want %o %v", tt.in, bits, fileMode(bits), err, tt.bits, tt.mode)
		}
	}
}
