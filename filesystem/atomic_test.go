package filesystem

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
)

// filesCutReader yields n bytes, then err.
type filesCutReader struct {
	n   int
	err error
}

func (r *filesCutReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestAtomicCutOffKeepsOldFile(t *testing.T) {
	f := newAtomicFS(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "f.txt")
	filesWrite(t, dest, "old content")

	a, err := f.CreateAtomic(dest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.ReadFrom(&filesCutReader{n: 3 << 20, err: io.ErrUnexpectedEOF})
	if !errors.Is(err, ErrSourceRead) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFrom of a cut-off source = %v, want ErrSourceRead wrapping the cause", err)
	}
	if got := filesRead(t, dest); got != "old content" {
		t.Errorf("while the write is pending the old file reads %.20q", got)
	}
	a.Abort()
	a.Abort() // twice is fine
	if got := filesRead(t, dest); got != "old content" {
		t.Errorf("after Abort the old file reads %.20q", got)
	}
	filesNoTemp(t, dir)
	if err := a.Commit(nil); err == nil {
		t.Errorf("Commit after Abort succeeded")
	}
	if _, err := a.Write([]byte("late")); err == nil {
		t.Errorf("Write after Abort succeeded")
	}
}

func TestAtomicCreatesFoldersOnlyOnCommit(t *testing.T) {
	f := newAtomicFS(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "a", "b", "f.txt")

	aborted, err := f.CreateAtomic(dest)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(aborted, "never lands")
	aborted.Abort()
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an aborted write created folders: %v", err)
	}
	filesNoTemp(t, dir)

	a, err := f.CreateAtomic(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	fmt.Fprint(a, "lands")
	if err := a.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if got := filesRead(t, dest); got != "lands" {
		t.Errorf("committed file reads %q", got)
	}
	filesNoTemp(t, dir)
}

func TestAtomicCommitAsAnotherPath(t *testing.T) {
	f := newAtomicFS(t)
	dir := t.TempDir()
	a, err := f.CreateAtomic(filepath.Join(dir, "cut"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	fmt.Fprint(a, "data")
	dest := filepath.Join(dir, "cut#rest", "f?.txt")
	if err := a.CommitAs(dest, nil); err != nil {
		t.Fatal(err)
	}
	if got := filesRead(t, dest); got != "data" {
		t.Errorf("CommitAs landed %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "cut")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the first destination was written too")
	}
	filesNoTemp(t, dir)
}

func TestAtomicKeepsOwner(t *testing.T) {
	f := newAtomicFS(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to chown a file to another user")
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "owned")
	filesWrite(t, dest, "v1")
	if err := os.Chown(dest, 1234, 2345); err != nil {
		t.Fatal(err)
	}
	a, err := f.CreateAtomic(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	fmt.Fprint(a, "v2")
	if err := a.Commit(nil); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dest)
	if uid, gid, _ := ownerIDs(fi); uid != 1234 || gid != 2345 {
		t.Errorf("replaced file owned by %d:%d, want 1234:2345 kept", uid, gid)
	}
}

func TestAtomicConcurrentWritersNeverMix(t *testing.T) {
	f := newAtomicFS(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "shared")
	const writers = 8
	const size = 1 << 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := f.CreateAtomic(dest)
			if err != nil {
				errs <- err
				return
			}
			defer a.Abort()
			if _, err := a.ReadFrom(bytes.NewReader(bytes.Repeat([]byte{byte('a' + i)}, size))); err != nil {
				errs <- err
				return
			}
			errs <- a.Commit(nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := filesRead(t, dest)
	if len(got) != size || strings.Count(got, got[:1]) != size {
		t.Errorf("the file mixes writers or is cut: %d bytes, first %q", len(got), got[:1])
	}
	filesNoTemp(t, dir)
}

func TestAtomicDiskFullIsErrNoSpace(t *testing.T) {
	dir := testdisk.Small(t, "1m")
	dest := filepath.Join(dir, "f.bin")
	filesWrite(t, dest, "old")

	f, err := New(Config{WorkingDir: dir, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.WriteFile(dest, &filesCutReader{n: 4 << 20, err: io.EOF}, nil)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("writing 4 MiB to a 1 MiB disk = %v, want ErrNoSpace", err)
	}
	if errors.Is(err, ErrSourceRead) {
		t.Errorf("a full disk was blamed on the source: %v", err)
	}
	if strings.Contains(err.Error(), "sandbox-api-tmp") {
		t.Errorf("the error names the temporary file: %v", err)
	}
	if got := filesRead(t, dest); got != "old" {
		t.Errorf("the old file reads %.20q after a failed write", got)
	}
	filesNoTemp(t, dir)
}

func TestAtomicCommitAcrossFilesystems(t *testing.T) {
	f := newAtomicFS(t)
	other := testdisk.Small(t, "8m")
	dir := t.TempDir()
	a, err := f.CreateAtomic(filepath.Join(dir, "start"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	payload := bytes.Repeat([]byte("0123456789"), 100_000)
	if _, err := a.ReadFrom(bytes.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	mode := fs.FileMode(0o640)
	dest := filepath.Join(other, "sub", "landed")
	if err := a.CommitAs(dest, &mode); err != nil {
		t.Fatal(err)
	}
	if got := filesRead(t, dest); got != string(payload) {
		t.Errorf("the copy across filesystems has %d bytes, want %d", len(got), len(payload))
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	filesNoTemp(t, dir)
	filesNoTemp(t, filepath.Join(other, "sub"))
}

// A local file is copied by the kernel; what the caller has already read
// of it is skipped, and a full disk is still ErrNoSpace.
func TestAtomicReadFromAFile(t *testing.T) {
	f := newAtomicFS(t)
	dir := t.TempDir()
	payload := bytes.Repeat([]byte("0123456789"), 400_000) // 4 MB
	srcPath := filepath.Join(dir, "src")
	filesWrite(t, srcPath, "skip"+string(payload))
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "dest")
	a, err := f.CreateAtomic(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if n, err := a.ReadFrom(src); err != nil || n != int64(len(payload)) || a.Size() != n {
		t.Fatalf("ReadFrom(file) = %d, %v (size %d), want %d", n, err, a.Size(), len(payload))
	}
	if err := a.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if got := filesRead(t, dest); got != string(payload) {
		t.Errorf("the copy has %d bytes, want %d", len(got), len(payload))
	}

	full := testdisk.Small(t, "1m")
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := f.CreateAtomic(filepath.Join(full, "f.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	_, err = b.ReadFrom(src)
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrSourceRead) {
		t.Fatalf("copying 4 MB to a 1 MiB disk = %v, want ErrNoSpace, not ErrSourceRead", err)
	}
	if strings.Contains(err.Error(), "sandbox-api-tmp") {
		t.Errorf("the error names the temporary file: %v", err)
	}
	b.Abort()
	filesNoTemp(t, full)
}

// newAtomicFS is an FS for the atomic writes of a test.
func newAtomicFS(t *testing.T) *FS {
	t.Helper()
	f, err := New(Config{WorkingDir: t.TempDir(), UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}
