package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// newUserFS is the watches of a file system acting as nobody, on a working
// folder anyone may write, which holds private/ (0700 root) with
// private/inner.txt in it.
func newUserFS(t *testing.T) (*FS, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	u, err := runas.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	base := t.TempDir()
	wd := filepath.Join(base, "wd")
	must(t, os.Mkdir(wd, 0o777))
	must(t, os.Chmod(wd, 0o777))
	for d := base; d != os.TempDir(); d = filepath.Dir(d) { // t.TempDir's folders are root's only
		must(t, os.Chmod(d, 0o755))
	}
	must(t, os.Mkdir(filepath.Join(wd, "private"), 0o700))
	must(t, os.WriteFile(filepath.Join(wd, "private", "inner.txt"), []byte("needle"), 0o644))
	f, err := filesystem.New(filesystem.Config{WorkingDir: wd, UploadDir: filepath.Join(base, "uploads"), JournalDir: filepath.Join(base, "journal"), User: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return &FS{FS: f, Service: New(f, Config{})}, wd
}

// A watch is armed as the user: what it may not read it may not watch.
func TestUserCannotWatchWhatItMayNotRead(t *testing.T) {
	f, _ := newUserFS(t)
	for _, tc := range []struct{ what, path string }{
		{"watch a 0700 root folder", "private"},
		{"watch a file inside a 0700 root folder", "private/inner.txt"},
	} {
		if _, err := f.Watch(context.Background(), tc.path, Options{}); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s as nobody: %v, want permission denied", tc.what, err)
		}
	}
}

// A folder that appears later in a recursive watch is watched as the user:
// one the user cannot read is an ERROR event, its content never reported.
func TestUserWatchAddsFoldersAsTheUser(t *testing.T) {
	f, wd := newUserFS(t)
	w, err := f.Watch(context.Background(), "", Options{Recursive: true})
	must(t, err)
	defer w.Close()
	hidden := filepath.Join(wd, "later")
	must(t, os.Mkdir(hidden, 0o700))
	must(t, os.WriteFile(filepath.Join(hidden, "inside.txt"), nil, 0o644))
	// Made by root after the first one: its events come later.
	must(t, os.Mkdir(filepath.Join(wd, "open"), 0o755))
	var events []string
	guard := time.After(atomicGuard)
	for !strings.Contains(strings.Join(events, "\n"), "CREATE "+filepath.Join(wd, "open")) {
		ev, ok, hung := receive(w, guard)
		switch {
		case hung:
			t.Fatalf("no CREATE of open/ within %s; saw %q", atomicGuard, events)
		case !ok:
			t.Fatalf("the watch ended before the CREATE of open/; saw %q", events)
		}
		events = append(events, fmt.Sprintf("%s %s %s", ev.Op, ev.Path, ev.Err))
	}
	all := strings.Join(events, "\n")
	if strings.Contains(all, "inside.txt") {
		t.Errorf("the watch reported the content of a 0700 root folder: %q", events)
	}
	if !strings.Contains(all, "ERROR "+hidden) {
		t.Errorf("no ERROR event for the folder nobody cannot watch: %q", events)
	}
}
