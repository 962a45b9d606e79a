package filesystem

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestStatMissing(t *testing.T) {
	f, wd := newFilesFS(t)
	filesWrite(t, filepath.Join(wd, "file"), "x")
	for _, p := range []string{"nope", filepath.Join(wd, "nope"), "file/under-a-file"} {
		if _, err := f.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want fs.ErrNotExist", p, err)
		}
	}
	// The message names stat, as the existing daemon's does.
	if _, err := f.Stat("nope"); err == nil || err.Error() != "stat "+filepath.Join(wd, "nope")+": no such file or directory" {
		t.Errorf("Stat(nope) error %q, want stat <path>: no such file or directory", err)
	}
	info, err := f.Stat("file")
	if err != nil || info.Path != filepath.Join(wd, "file") {
		t.Errorf("Stat of a relative path: %+v, %v; want it resolved in the working dir", info, err)
	}
}

func TestOpenFileKinds(t *testing.T) {
	f, wd := newFilesFS(t)
	filesWrite(t, filepath.Join(wd, "plain"), "content")
	if err := os.Mkdir(filepath.Join(wd, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A FIFO without a writer: opening it for reading would block forever.
	if err := syscall.Mkfifo(filepath.Join(wd, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want error
	}{
		{"plain", nil},
		{"dir", ErrIsDirectory},
		{"fifo", ErrNotRegular},
		{"/dev/null", ErrNotRegular},
		{"missing", fs.ErrNotExist},
	}
	for _, tc := range tests {
		file, info, err := f.OpenFile(tc.path)
		if tc.want == nil {
			if err != nil {
				t.Errorf("OpenFile(%q): %v", tc.path, err)
				continue
			}
			data, _ := io.ReadAll(file)
			file.Close()
			if string(data) != "content" || info.Size != 7 {
				t.Errorf("OpenFile(%q) read %q, size %d", tc.path, data, info.Size)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("OpenFile(%q) = %v, want %v", tc.path, err, tc.want)
		}
		if file != nil {
			t.Errorf("OpenFile(%q) returned an open file with an error", tc.path)
		}
	}
}

func TestListClassifiesAndSorts(t *testing.T) {
	f, wd := newFilesFS(t)
	filesWrite(t, filepath.Join(wd, "b.txt"), "bb")
	filesWrite(t, filepath.Join(wd, "a.txt"), "a")
	filesWrite(t, filepath.Join(wd, "sub", "inner.txt"), "not listed: one level only")
	if err := os.Symlink(filepath.Join(wd, "sub"), filepath.Join(wd, "link-to-sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(wd, "b.txt"), filepath.Join(wd, "link-to-b")); err != nil {
		t.Fatal(err)
	}
	d, err := f.List("")
	if err != nil {
		t.Fatal(err)
	}
	if d.Path != wd || d.Name != filepath.Base(wd) {
		t.Errorf("listing of the working dir is %q (%q)", d.Path, d.Name)
	}
	var files, subs []string
	for _, fi := range d.Files {
		files = append(files, fi.Name)
	}
	for _, s := range d.Subdirectories {
		subs = append(subs, s.Name)
		if len(s.Files) != 0 || len(s.Subdirectories) != 0 {
			t.Errorf("a listing filled in subfolder %s", s.Name)
		}
	}
	if got := strings.Join(files, ","); got != "a.txt,b.txt,link-to-b" {
		t.Errorf("files = %s", got)
	}
	if got := strings.Join(subs, ","); got != "link-to-sub,sub" {
		t.Errorf("subdirectories = %s", got)
	}
	if d.Files[2].Size != 2 {
		t.Errorf("a link to a file reports the target's size: got %d", d.Files[2].Size)
	}
	if _, err := f.List("a.txt"); !errors.Is(err, ErrNotDirectory) {
		t.Errorf("List of a file = %v, want ErrNotDirectory", err)
	}
	if _, err := f.List("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List of a missing folder = %v, want fs.ErrNotExist", err)
	}
}

func TestMkdir(t *testing.T) {
	f, wd := newFilesFS(t)
	mode := fs.FileMode(0o777) // the umask would remove group and other write
	abs, err := f.Mkdir("x/y/z", &mode)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Fatalf("Mkdir made %v (%v), want a 0777 folder", fi, err)
	}
	if _, err := f.Mkdir("x/y/z", nil); err != nil {
		t.Errorf("Mkdir of an existing folder: %v", err)
	}
	filesWrite(t, filepath.Join(wd, "file"), "x")
	for _, p := range []string{"file", "file/below"} {
		if _, err := f.Mkdir(p, nil); !errors.Is(err, ErrNotDirectory) {
			t.Errorf("Mkdir(%q) = %v, want ErrNotDirectory", p, err)
		}
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, wd string)
		path      string
		recursive bool
		want      error
		gone      bool
		wasDir    bool
		message   string // the error's text, with <wd> for the working dir; "" skips the check
	}{
		{"file", func(t *testing.T, wd string) { filesWrite(t, filepath.Join(wd, "f"), "x") }, "f", false, nil, true, false, ""},
		{"empty folder", func(t *testing.T, wd string) { os.Mkdir(filepath.Join(wd, "d"), 0o755) }, "d", false, nil, true, true, ""},
		{"full folder", func(t *testing.T, wd string) { filesWrite(t, filepath.Join(wd, "d/f"), "x") }, "d", false, ErrNotEmpty, false, true,
			"error deleting directory: remove <wd>/d: directory not empty"},
		{"full folder recursively", func(t *testing.T, wd string) { filesWrite(t, filepath.Join(wd, "d/e/f"), "x") }, "d", true, nil, true, true, ""},
		{"file recursively", func(t *testing.T, wd string) { filesWrite(t, filepath.Join(wd, "f"), "x") }, "f", true, nil, true, false, ""},
		{"missing", func(t *testing.T, wd string) {}, "nope", false, fs.ErrNotExist, true, false, "stat <wd>/nope: no such file or directory"},
		{"missing recursively", func(t *testing.T, wd string) {}, "nope", true, fs.ErrNotExist, true, false, ""},
		{"root", func(t *testing.T, wd string) {}, "/", true, ErrInvalidPath, false, true, ""},
		{"root spelled oddly", func(t *testing.T, wd string) {}, "/tmp/../", true, ErrInvalidPath, false, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, wd := newFilesFS(t)
			tc.setup(t, wd)
			abs, wasDir, err := f.Remove(tc.path, tc.recursive)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Remove(%q, %v) = %v, want %v", tc.path, tc.recursive, err, tc.want)
			}
			if want := strings.ReplaceAll(tc.message, "<wd>", wd); want != "" && err.Error() != want {
				t.Errorf("Remove(%q) error %q, want %q", tc.path, err, want)
			}
			if wasDir != tc.wasDir {
				t.Errorf("Remove(%q) said wasDir %v, want %v", tc.path, wasDir, tc.wasDir)
			}
			_, serr := os.Lstat(abs)
			if gone := errors.Is(serr, fs.ErrNotExist); gone != tc.gone {
				t.Errorf("after Remove, %s gone = %v, want %v", abs, gone, tc.gone)
			}
		})
	}
}

func TestRemoveLinkKeepsTarget(t *testing.T) {
	f, wd := newFilesFS(t)
	target := filepath.Join(wd, "target")
	filesWrite(t, filepath.Join(target, "keep.txt"), "x")
	if err := os.Symlink(target, filepath.Join(wd, "link")); err != nil {
		t.Fatal(err)
	}
	if _, wasDir, err := f.Remove("link", true); err != nil || wasDir {
		t.Fatalf("Remove(link) = %v, wasDir %v; want the link removed as a file", err, wasDir)
	}
	if _, err := os.Lstat(filepath.Join(wd, "link")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the link is still there: %v", err)
	}
	if filesRead(t, filepath.Join(target, "keep.txt")) != "x" {
		t.Errorf("removing a link touched its target")
	}
}

func TestWriteFile(t *testing.T) {
	f, wd := newFilesFS(t)
	mode := func(m fs.FileMode) *fs.FileMode { return &m }
	permOf := func(p string) fs.FileMode {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}

	abs, err := f.WriteFile("new/deep/a.txt", strings.NewReader("one"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if abs != filepath.Join(wd, "new/deep/a.txt") || filesRead(t, abs) != "one" || permOf(abs) != DefaultFilePermissions {
		t.Errorf("new file %s: %q, %v", abs, filesRead(t, abs), permOf(abs))
	}

	if err := os.Chmod(abs, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile(abs, strings.NewReader("two"), nil); err != nil {
		t.Fatal(err)
	}
	if filesRead(t, abs) != "two" || permOf(abs) != 0o600 {
		t.Errorf("replacing without a mode: %q, %v; want two, 0600 kept", filesRead(t, abs), permOf(abs))
	}
	if _, err := f.WriteFile(abs, strings.NewReader("three"), mode(0o751)); err != nil {
		t.Fatal(err)
	}
	if permOf(abs) != 0o751 {
		t.Errorf("explicit mode: %v, want 0751", permOf(abs))
	}

	// Writing through a link updates its target and keeps the link.
	link := filepath.Join(wd, "link.txt")
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile("link.txt", strings.NewReader("via link"), nil); err != nil {
		t.Fatal(err)
	}
	if lst, _ := os.Lstat(link); lst.Mode()&fs.ModeSymlink == 0 || filesRead(t, abs) != "via link" {
		t.Errorf("write through a link: link kept %v, target %q", lst.Mode(), filesRead(t, abs))
	}

	if _, err := f.WriteFile("new", strings.NewReader("x"), nil); !errors.Is(err, ErrIsDirectory) {
		t.Errorf("writing over a folder = %v, want ErrIsDirectory", err)
	}
	if _, err := f.WriteFile("new/deep/a.txt/below", strings.NewReader("x"), nil); !errors.Is(err, ErrNotDirectory) {
		t.Errorf("writing below a file = %v, want ErrNotDirectory", err)
	}
	filesNoTemp(t, wd)
	filesNoTemp(t, filepath.Join(wd, "new/deep"))
}
