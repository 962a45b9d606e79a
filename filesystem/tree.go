package filesystem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxTreeEntries bounds a tree read: past it the answer would be too big
// to build and to use, and a tree of "/" would walk /proc.
const MaxTreeEntries = 100_000

// Tree describes the folder p recursively, with at most maxEntries files
// and folders (ErrTooLarge past that). A symbolic link to a folder is
// listed as a subfolder but not followed, so links cannot loop; a
// subfolder that cannot be read is listed empty.
func (f *FS) Tree(p string, maxEntries int) (Directory, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(p)
	t := treeReader{names: newIDNames(), max: maxEntries}
	d, err := t.read(abs)
	if errors.Is(err, ErrTooLarge) {
		return Directory{}, fmt.Errorf("the tree of %s has more than %d entries; list its folders one at a time: %w", abs, maxEntries, ErrTooLarge)
	}
	return d, err
}

type treeReader struct {
	names *idNames
	max   int
	count int
}

func (t *treeReader) read(abs string) (Directory, error) {
	d, err := listDir(abs, t.names)
	if err != nil {
		return Directory{}, err
	}
	t.count += len(d.Files) + len(d.Subdirectories)
	if t.count > t.max {
		return Directory{}, ErrTooLarge
	}
	for i := range d.Subdirectories {
		sub := &d.Subdirectories[i]
		sub.Files, sub.Subdirectories = []FileInfo{}, []Directory{}
		if lst, err := os.Lstat(sub.Path); err != nil || !lst.IsDir() {
			continue // a link to a folder, or gone
		}
		child, err := t.read(sub.Path)
		if errors.Is(err, ErrTooLarge) {
			return Directory{}, err
		}
		if err == nil {
			*sub = child
		}
	}
	return d, nil
}

// treeEntry is one validated key of a tree write.
type treeEntry struct {
	rel     string // clean, relative, inside the root
	content string
	folder  bool // the key ended with "/": create a folder
}

// WriteTree writes many files under the folder root: files maps a path
// relative to root to the file's content; a key ending in "/" creates a
// folder. Every key is checked before anything is written: absolute paths,
// ".." escapes, two keys for one path, and a file that another key needs
// as a folder are ErrInvalidPath; a file key whose path holds a FIFO,
// socket or device is ErrNotRegular. Each file lands atomically; the set does
// not (a disk that fills midway leaves the files written so far). It
// returns the tree of what it wrote.
func (f *FS) WriteTree(root string, files map[string]string) (Directory, error) {
	defer f.cfg.User.Enter()()
	abs := f.Resolve(root)
	entries, err := validateTree(files)
	if err != nil {
		return Directory{}, err
	}
	// A FIFO, socket or device in the way refuses the whole set up front,
	// not after the files before it were written.
	for _, e := range entries {
		if e.folder {
			continue
		}
		if err := refuseSpecial(filepath.Join(abs, e.rel)); err != nil {
			return Directory{}, err
		}
	}
	if _, err := f.Mkdir(abs, nil); err != nil {
		return Directory{}, err
	}
	names := newIDNames()
	out := Directory{Path: abs, Name: filepath.Base(abs), Files: []FileInfo{}, Subdirectories: []Directory{}}
	for _, e := range entries {
		p := filepath.Join(abs, e.rel)
		if e.folder {
			if _, err := f.Mkdir(p, nil); err != nil {
				return Directory{}, err
			}
		} else if err := f.writeString(p, e.content); err != nil {
			return Directory{}, err
		}
		lst, err := os.Lstat(p)
		if err != nil {
			return Directory{}, fmt.Errorf("stat %s: %w", p, err)
		}
		insertTree(&out, strings.Split(e.rel, string(filepath.Separator)), names.describe(p, lst))
	}
	return out, nil
}

func (f *FS) writeString(p, content string) error {
	a, err := f.CreateAtomic(p)
	if err != nil {
		return err
	}
	defer a.Abort()
	if _, err := a.Write([]byte(content)); err != nil {
		return err
	}
	return a.Commit(nil)
}

// validateTree checks every key and returns the entries sorted by path.
func validateTree(files map[string]string) ([]treeEntry, error) {
	entries := make([]treeEntry, 0, len(files))
	seen := make(map[string]bool, len(files))
	for key, content := range files {
		folder := strings.HasSuffix(key, "/")
		rel := filepath.Clean(key)
		switch {
		case key == "" || strings.ContainsRune(key, 0):
			return nil, fmt.Errorf("%w: tree key %q is empty or holds a NUL byte", ErrInvalidPath, key)
		case filepath.IsAbs(key):
			return nil, fmt.Errorf("%w: tree key %q is absolute; keys are relative to the tree's folder", ErrInvalidPath, key)
		case rel == "." || !filepath.IsLocal(rel):
			return nil, fmt.Errorf("%w: tree key %q leaves the tree's folder", ErrInvalidPath, key)
		case folder && content != "":
			return nil, fmt.Errorf("%w: tree key %q names a folder (trailing /) but has content", ErrInvalidPath, key)
		case seen[rel]:
			return nil, fmt.Errorf("%w: two tree keys name %q", ErrInvalidPath, rel)
		}
		seen[rel] = true
		entries = append(entries, treeEntry{rel: rel, content: content, folder: folder})
	}
	slices.SortFunc(entries, func(a, b treeEntry) int { return strings.Compare(a.rel, b.rel) })
	fileAt := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !e.folder {
			fileAt[e.rel] = true
		}
	}
	for _, e := range entries {
		for dir := filepath.Dir(e.rel); dir != "."; dir = filepath.Dir(dir) {
			if fileAt[dir] {
				return nil, fmt.Errorf("%w: tree key %q needs %q to be a folder, but another key writes it as a file", ErrInvalidPath, e.rel, dir)
			}
		}
	}
	return entries, nil
}

// insertTree puts info at the relative path parts under d, adding the
// folders on the way.
func insertTree(d *Directory, parts []string, info FileInfo) {
	if len(parts) == 1 {
		if info.IsDir {
			for _, s := range d.Subdirectories {
				if s.Name == info.Name {
					return // already added on the way to a file inside it
				}
			}
			d.Subdirectories = append(d.Subdirectories, Directory{Path: info.Path, Name: info.Name, Files: []FileInfo{}, Subdirectories: []Directory{}})
		} else {
			d.Files = append(d.Files, info)
		}
		return
	}
	for i := range d.Subdirectories {
		if d.Subdirectories[i].Name == parts[0] {
			insertTree(&d.Subdirectories[i], parts[1:], info)
			return
		}
	}
	d.Subdirectories = append(d.Subdirectories, Directory{
		Path: filepath.Join(d.Path, parts[0]), Name: parts[0], Files: []FileInfo{}, Subdirectories: []Directory{},
	})
	insertTree(&d.Subdirectories[len(d.Subdirectories)-1], parts[1:], info)
}
