package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/runas"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// userFixture is an FS acting as nobody, on a working folder anyone may
// write, which holds:
//
//	secret        0600 root: "root only needle"
//	private/      0700 root, with private/inner.txt: "needle"
//	locked/       0755 root, with locked/file.txt 0644 root
type userFixture struct {
	fs   *FS
	user *runas.User
	wd   string
}

func newUserFixture(t *testing.T) userFixture {
	t.Helper()
	u := testsupport.Nobody(t)
	base := t.TempDir()
	wd := filepath.Join(base, "wd")
	mustDo(t, os.Mkdir(wd, 0o777), os.Chmod(wd, 0o777))
	for d := base; d != os.TempDir(); d = filepath.Dir(d) { // t.TempDir's folders are root's only
		mustDo(t, os.Chmod(d, 0o755))
	}
	mustDo(t,
		os.WriteFile(filepath.Join(wd, "secret"), []byte("root only needle"), 0o600),
		os.Mkdir(filepath.Join(wd, "private"), 0o700),
		os.WriteFile(filepath.Join(wd, "private", "inner.txt"), []byte("needle"), 0o644),
		os.Mkdir(filepath.Join(wd, "locked"), 0o755),
		os.WriteFile(filepath.Join(wd, "locked", "file.txt"), []byte("root's"), 0o644),
	)
	f, err := New(Config{WorkingDir: wd, UploadDir: filepath.Join(base, "uploads"), JournalDir: filepath.Join(base, "journal"), User: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return userFixture{fs: f, user: u, wd: wd}
}

func mustDo(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("%s as nobody: %v, want permission denied", what, err)
	}
}

func (fx userFixture) wantOwner(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != fx.user.UID || st.Gid != fx.user.GID {
		t.Errorf("%s belongs to %d:%d, want nobody's %d:%d", path, st.Uid, st.Gid, fx.user.UID, fx.user.GID)
	}
}

func (fx userFixture) wantUntouched(t *testing.T, rel, content string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fx.wd, rel))
	if err != nil || string(data) != content {
		t.Errorf("%s is now %q (%v), want %q untouched", rel, data, err, content)
	}
}

func TestUserWritesBelongToTheUser(t *testing.T) {
	fx := newUserFixture(t)
	abs, err := fx.fs.WriteFile("new/deep/file.txt", strings.NewReader("hello"), nil)
	mustDo(t, err)
	fx.wantOwner(t, abs)
	fx.wantOwner(t, filepath.Join(fx.wd, "new")) // the folders it made too
	dir, err := fx.fs.Mkdir("made", nil)
	mustDo(t, err)
	fx.wantOwner(t, dir)
	tree, err := fx.fs.WriteTree("tree", map[string]string{"a/b.txt": "b"})
	mustDo(t, err)
	fx.wantOwner(t, filepath.Join(tree.Path, "a", "b.txt"))
	// A file the user may write (its own) is replaced as usual.
	_, err = fx.fs.WriteFile("new/deep/file.txt", strings.NewReader("again"), nil)
	mustDo(t, err)
	fx.wantUntouched(t, "new/deep/file.txt", "again")
}

func TestUserCannotReadWhatItMayNot(t *testing.T) {
	fx := newUserFixture(t)
	_, _, err := fx.fs.OpenFile("secret")
	wantDenied(t, "open a 0600 root file", err)
	_, err = fx.fs.List("private")
	wantDenied(t, "list a 0700 root folder", err)
	_, err = fx.fs.Stat("private/inner.txt")
	wantDenied(t, "stat inside a 0700 root folder", err)
	_, err = fx.fs.Tree("private", MaxTreeEntries)
	wantDenied(t, "tree of a 0700 root folder", err)

	// Searches from the working folder skip what the user cannot read:
	// the walker and the content search's workers act as the user too.
	ctx := context.Background()
	found, _, err := fx.fs.SearchContent(ctx, "", ContentSearchOptions{Query: "needle"})
	mustDo(t, err)
	if len(found) != 0 {
		t.Errorf("content search as nobody found %+v in root's files", found)
	}
	matches, _, err := fx.fs.Find(ctx, "", FindOptions{WalkOptions: WalkOptions{IncludeHidden: true}})
	mustDo(t, err)
	for _, m := range matches {
		if strings.HasPrefix(m.Path, "private/") {
			t.Errorf("find as nobody listed %s", m.Path)
		}
	}
	fuzzy, _, err := fx.fs.FuzzySearch(ctx, "", FuzzyOptions{Query: "inner"})
	mustDo(t, err)
	if len(fuzzy) != 0 {
		t.Errorf("fuzzy search as nobody found %+v", fuzzy)
	}
}

func TestUserCannotWriteWhatItMayNot(t *testing.T) {
	fx := newUserFixture(t)
	// The folder is anyone's, so a rename over the file would pass: the
	// file's own permissions refuse it.
	_, err := fx.fs.WriteFile("secret", strings.NewReader("overwritten"), nil)
	wantDenied(t, "write over a 0600 root file", err)
	fx.wantUntouched(t, "secret", "root only needle")
	_, err = fx.fs.WriteFile("locked/file.txt", strings.NewReader("x"), nil)
	wantDenied(t, "write in a 0755 root folder", err)
	fx.wantUntouched(t, "locked/file.txt", "root's")
	_, err = fx.fs.WriteFile("private/new.txt", strings.NewReader("x"), nil)
	wantDenied(t, "write in a 0700 root folder", err)
	_, err = fx.fs.Mkdir("locked/sub", nil)
	wantDenied(t, "mkdir in a 0755 root folder", err)
	_, _, err = fx.fs.Remove("locked/file.txt", false)
	wantDenied(t, "remove from a 0755 root folder", err)
	_, _, err = fx.fs.Remove("locked", true)
	wantDenied(t, "remove a 0755 root folder recursively", err)
	fx.wantUntouched(t, "locked/file.txt", "root's")
	_, err = fx.fs.WriteTree("locked", map[string]string{"t.txt": "x"})
	wantDenied(t, "tree write in a 0755 root folder", err)
	if entries, _ := os.ReadDir(filepath.Join(fx.wd, "locked")); len(entries) != 1 {
		t.Errorf("refused writes left %d entries in locked/", len(entries))
	}
}

func TestUserMultipartUpload(t *testing.T) {
	fx := newUserFixture(t)
	data := []byte("part one")
	up := initiate(t, fx.fs, "uploaded.bin", "")
	p := putPart(t, fx.fs, up.ID, 1, data)
	dest, err := fx.fs.CompleteUpload(up.ID, listed(p))
	mustDo(t, err)
	fx.wantOwner(t, dest)
	wantFile(t, dest, data)

	// Over root's file: refused, the file intact, the upload kept.
	up = initiate(t, fx.fs, "secret", "")
	p = putPart(t, fx.fs, up.ID, 1, data)
	_, err = fx.fs.CompleteUpload(up.ID, listed(p))
	wantDenied(t, "complete an upload over a 0600 root file", err)
	fx.wantUntouched(t, "secret", "root only needle")

	// Inside a folder it cannot see, a folder is not told from a file.
	mustDo(t, os.Mkdir(filepath.Join(fx.wd, "private", "dir"), 0o755))
	if _, err := fx.fs.InitiateUpload("private/dir", ""); err != nil {
		t.Errorf("initiate to a folder nobody cannot see: %v, want the same answer as for a file", err)
	}
}

// An FS acting as the user and one acting as the daemon, used at once:
// each write lands with its own owner.
func TestUserAndDaemonConcurrently(t *testing.T) {
	fx := newUserFixture(t)
	root, err := New(Config{WorkingDir: fx.wd, UploadDir: t.TempDir(), JournalDir: t.TempDir()})
	mustDo(t, err)
	defer root.Close()
	const rounds = 100
	var wg sync.WaitGroup
	for _, f := range []*FS{fx.fs, root, fx.fs, root} {
		wg.Go(func() {
			for range rounds {
				abs, err := f.WriteFile(fmt.Sprintf("c-%p-%d", f, time.Now().UnixNano()), bytes.NewReader([]byte("x")), nil)
				if err != nil {
					t.Error(err)
					return
				}
				file, _, rerr := f.OpenFile("secret")
				if file != nil {
					_ = file.Close()
				}
				fi, err := os.Lstat(abs)
				if err != nil {
					t.Error(err)
					return
				}
				uid := fi.Sys().(*syscall.Stat_t).Uid
				if f == fx.fs && (uid != fx.user.UID || !errors.Is(rerr, fs.ErrPermission)) {
					t.Errorf("as nobody: wrote a file of uid %d, read root's file: %v", uid, rerr)
				}
				if f == root && (uid != 0 || rerr != nil) {
					t.Errorf("as root: wrote a file of uid %d, read root's file: %v", uid, rerr)
				}
			}
		})
	}
	wg.Wait()
}
