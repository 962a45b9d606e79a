package filesystem

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestIsDaemonTemp(t *testing.T) {
	ours := tempName("/d/report.pdf", "0a1b2c3d", 7)
	tests := []struct {
		name string
		want bool
	}{
		{ours, true},
		{tempName("/d/"+string(make([]byte, 200)), "0a1b2c3d", 1), true}, // a long name, cut
		{".report.pdf.123.sandbox-api-tmp", false},                       // an earlier daemon's, or a user's
		{".report.pdf.sandbox-api-tmp", false},
		{"report.pdf", false},
		{"." + processMark() + tempSuffix[:4], false},
		{ours[1:], false}, // not hidden: not a name we make
		{ours + ".bak", false},
	}
	for _, tc := range tests {
		if got := isDaemonTemp(tc.name); got != tc.want {
			t.Errorf("isDaemonTemp(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHasTempShape(t *testing.T) {
	for name, want := range map[string]bool{
		tempName("/d/f", "id", 1):         true,
		".f.123.sandbox-api-tmp":          true, // an earlier daemon's
		".sandbox-api-tmp":                false,
		"f.sandbox-api-tmp":               false,
		".f.123.sandbox-api-tmp.restored": false,
	} {
		if got := hasTempShape(name); got != want {
			t.Errorf("hasTempShape(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestTempFilesAreHiddenMidWrite: while a write is in flight, its temporary
// file is in no listing, tree or walk (which find and the searches use),
// hidden files included; a user's file of a similar name is.
func TestTempFilesAreHiddenMidWrite(t *testing.T) {
	f, dir := newFilesFS(t)
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	var pending []*AtomicFile
	for _, dest := range []string{"a.txt", "sub/b.txt", "new/c.txt"} { // new/: its temporary file is in dir
		a, err := f.CreateAtomic(filepath.Join(dir, dest))
		must(t, err)
		t.Cleanup(a.Abort)
		_, err = a.Write([]byte("needle, mid-write"))
		must(t, err)
		pending = append(pending, a)
	}
	lookalike := ".a.txt.123.sandbox-api-tmp"
	must(t, os.WriteFile(filepath.Join(dir, "sub", lookalike), []byte("needle"), 0o644))
	if n := len(tempFilesIn(t, dir)); n != 3 {
		t.Fatalf("%d temporary files on disk, want 3 writes in flight", n)
	}

	list, err := f.List(dir)
	must(t, err)
	if names := dirNames(list); !slices.Equal(names, []string{"sub/"}) {
		t.Errorf("listing of the folder: %q, want only sub/", names)
	}
	list, err = f.List(filepath.Join(dir, "sub"))
	must(t, err)
	if names := dirNames(list); !slices.Equal(names, []string{lookalike}) {
		t.Errorf("listing of sub: %q, want only the user's file", names)
	}
	tree, err := f.Tree(dir, MaxTreeEntries)
	must(t, err)
	if len(tree.Files) != 0 || len(tree.Subdirectories) != 1 || !slices.Equal(dirNames(tree.Subdirectories[0]), []string{lookalike}) {
		t.Errorf("tree: %+v, want sub/ holding only the user's file", tree)
	}
	var walked []string
	must(t, walkTree(context.Background(), dir, WalkOptions{IncludeHidden: true}, func(e walkEntry) error {
		walked = append(walked, e.rel)
		return nil
	}))
	if want := []string{"sub", "sub/" + lookalike}; !slices.Equal(walked, want) {
		t.Errorf("walk with hidden files: %q, want %q", walked, want)
	}

	for _, a := range pending {
		must(t, a.Commit(nil))
	}
	list, err = f.List(dir)
	must(t, err)
	if names := dirNames(list); !slices.Equal(names, []string{"a.txt", "new/", "sub/"}) {
		t.Errorf("after the writes: %q", names)
	}
}

// dirNames lists a directory's entries, folders with a trailing slash.
func dirNames(d Directory) []string {
	var names []string
	for _, s := range d.Subdirectories {
		names = append(names, s.Name+"/")
	}
	for _, f := range d.Files {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// tempFilesIn lists this process's temporary files under dir.
func tempFilesIn(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	must(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && isDaemonTemp(d.Name()) {
			found = append(found, p)
		}
		return err
	}))
	return found
}
