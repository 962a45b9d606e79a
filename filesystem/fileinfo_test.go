package filesystem

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFormatPermissions(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "644"}, // no leading zero, as the existing daemon writes it
		{0o600, "600"},
		{0o755 | fs.ModeDir, "755"},
		{0o044, "44"},
		{0o777 | fs.ModeDir | fs.ModeSticky, "1777"},
		{0o755 | fs.ModeSetuid, "4755"},
		{0o755 | fs.ModeSetgid, "2755"},
		{0, "0"},
	}
	for _, tc := range tests {
		if got := FormatPermissions(tc.mode); got != tc.want {
			t.Errorf("FormatPermissions(%v) = %q, want %q", tc.mode, got, tc.want)
		}
	}
}

func TestParsePermissions(t *testing.T) {
	tests := []struct {
		in      string
		want    fs.FileMode
		wantErr bool
	}{
		{"0644", 0o644, false},
		{"644", 0o644, false},
		{"0o755", 0o755, false},
		{"7", 0o7, false},
		{"1777", 0o777 | fs.ModeSticky, false},
		{"4755", 0o755 | fs.ModeSetuid, false},
		{"2750", 0o750 | fs.ModeSetgid, false},
		{"", 0, true},
		{"0888", 0, true},
		{"12345", 0, true},
		{"rwxr-xr-x", 0, true},
		{"-644", 0, true},
		{"0x1ff", 0, true},
		{"0o", 0, true},
	}
	for _, tc := range tests {
		got, err := ParsePermissions(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalidPermissions) {
				t.Errorf("ParsePermissions(%q) = %v, %v; want ErrInvalidPermissions", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePermissions(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		// What the API reads back can be written back.
		if back, err := ParsePermissions(FormatPermissions(got)); err != nil || back != got {
			t.Errorf("round trip of %q: %v, %v", tc.in, back, err)
		}
	}
}

func TestDescribeOwnerGroupAndLinks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	filesWrite(t, file, "12345")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	linkToDir := filepath.Join(dir, "to-sub")
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(sub, linkToDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	names := newIDNames()
	describe := func(p string) FileInfo {
		lst, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		return names.describe(p, lst)
	}

	info := describe(file)
	if info.Path != file || info.Name != "f.txt" || info.Size != 5 || info.IsDir || info.Permissions() != "644" {
		t.Errorf("file described as %+v", info)
	}
	if os.Getuid() == 0 && (info.Owner != "root" || info.Group != "root") {
		t.Errorf("a file created by root has owner %q, group %q", info.Owner, info.Group)
	}
	if !describe(linkToDir).IsDir {
		t.Errorf("a link to a folder should be described as a folder")
	}
	if d := describe(dangling); d.IsDir || d.Mode&fs.ModeSymlink == 0 {
		t.Errorf("a dangling link should be described as itself: %+v", d)
	}

	if os.Getuid() != 0 {
		return // only root can give a file to an unnamed uid
	}
	if err := os.Chown(file, 54321, 54322); err != nil {
		t.Fatal(err)
	}
	if got := describe(file); got.Owner != "54321" || got.Group != "54322" {
		t.Errorf("ids without names: owner %q, group %q; want the numbers", got.Owner, got.Group)
	}
}

// filesWrite creates a file with content, failing the test on error.
func filesWrite(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// filesRead returns a file's content, failing the test on error.
func filesRead(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// filesNoTemp fails when a temporary file of an atomic write is left in dir.
func filesNoTemp(t testing.TB, dir string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*.sandbox-api-tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) > 0 {
		t.Errorf("temporary files left in %s: %v", dir, matches)
	}
}

// newFilesFS is an FS whose working directory is a fresh folder.
func newFilesFS(t testing.TB) (*FS, string) {
	t.Helper()
	wd := t.TempDir()
	f, err := New(Config{WorkingDir: wd, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, wd
}
