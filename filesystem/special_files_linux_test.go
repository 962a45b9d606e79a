package filesystem

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// specialNodes makes, in dir, each kind of node a write must never
// replace, and returns their names with the type each must keep. A
// character device needs CAP_MKNOD; without it that case is left out.
func specialNodes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	nodes := map[string]fs.FileMode{}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	nodes["fifo"] = fs.ModeNamedPipe
	ln, err := net.Listen("unix", filepath.Join(dir, "socket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	nodes["socket"] = fs.ModeSocket
	// The numbers of /dev/null: a copy of it, so a failing test breaks
	// nothing outside its folder.
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		nodes["null"] = fs.ModeDevice | fs.ModeCharDevice
	} else {
		t.Logf("no character device (%v): that case is skipped", err)
	}
	if err := os.Symlink("fifo", filepath.Join(dir, "link-to-fifo")); err != nil {
		t.Fatal(err)
	}
	nodes["link-to-fifo"] = fs.ModeSymlink
	return nodes
}

// wantIntact checks the node at p still has its type.
func wantIntact(t *testing.T, p string, typ fs.FileMode) {
	t.Helper()
	lst, err := os.Lstat(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if got := lst.Mode().Type(); got != typ {
		t.Fatalf("%s is now %v, want %v: it was replaced", p, got, typ)
	}
	if typ == fs.ModeSymlink {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
			t.Fatalf("the target of %s is no longer a FIFO (%v, %v)", p, fi, err)
		}
	}
}

// TestWritesRefuseSpecialFiles runs every way the package writes a file
// onto every kind of special node: each is ErrNotRegular and leaves the
// node as it was.
func TestWritesRefuseSpecialFiles(t *testing.T) {
	f, _ := newUploadFS(t, 0)
	dir := f.WorkingDir()
	nodes := specialNodes(t, dir)
	writes := map[string]func(p string) error{
		"WriteFile": func(p string) error {
			_, err := f.WriteFile(p, strings.NewReader("x"), nil)
			return err
		},
		"CommitAs another path": func(p string) error {
			a, err := f.CreateAtomic(filepath.Join(dir, "elsewhere"))
			if err != nil {
				return err
			}
			defer a.Abort()
			_, _ = a.Write([]byte("x"))
			return a.CommitAs(p, nil)
		},
		"WriteTree": func(p string) error {
			// The other key comes first in order and must not be written.
			_, err := f.WriteTree(dir, map[string]string{"a-first": "x", filepath.Base(p): "x"})
			if _, serr := os.Stat(filepath.Join(dir, "a-first")); serr == nil {
				t.Errorf("WriteTree wrote a-first before refusing %s", p)
				_ = os.Remove(filepath.Join(dir, "a-first"))
			}
			return err
		},
		"InitiateUpload": func(p string) error {
			_, err := f.InitiateUpload(p, "")
			return err
		},
		"CompleteUpload onto a node made after initiate": func(p string) error {
			tmp := filepath.Join(dir, "later")
			up := initiate(t, f, tmp, "")
			part := putPart(t, f, up.ID, 1, []byte("x"))
			// The node takes the destination's place after the initiate.
			if err := os.Rename(p, tmp); err != nil {
				t.Fatal(err)
			}
			defer os.Rename(tmp, p)
			_, err := f.CompleteUpload(up.ID, []CompletedPart{{Number: 1, ETag: part.ETag}})
			wantIntact(t, tmp, nodes[filepath.Base(p)])
			return err
		},
	}
	for wname, write := range writes {
		for node, typ := range nodes {
			p := filepath.Join(dir, node)
			err := write(p)
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s onto %s: %v, want ErrNotRegular", wname, node, err)
			}
			wantIntact(t, p, typ)
		}
	}
	// No temporary file was left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if isDaemonTemp(e.Name()) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestRefuseSpecialPassesFilesFoldersAndMissingPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, dir, filepath.Join(dir, "link"), filepath.Join(dir, "dangling"), filepath.Join(dir, "missing")} {
		if err := refuseSpecial(p); err != nil {
			t.Errorf("refuseSpecial(%s): %v", p, err)
		}
	}
}

// TestOpenFileRefusesSpecialFiles: reads refuse every kind of node with
// ErrNotRegular, a socket (which cannot even be opened) included.
func TestOpenFileRefusesSpecialFiles(t *testing.T) {
	f, _ := newUploadFS(t, 0)
	for node := range specialNodes(t, f.WorkingDir()) {
		file, _, err := f.OpenFile(node)
		if err == nil {
			file.Close()
		}
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("OpenFile(%s): %v, want ErrNotRegular", node, err)
		}
	}
}
