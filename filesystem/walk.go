package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrInvalidSearch marks a search request that can never succeed as asked:
// a bad pattern, an unknown type, a missing query, a root that is not a
// folder. The HTTP layer answers it with 400.
var ErrInvalidSearch = errors.New("invalid search")

// DefaultExcludedDirs are the heavy folders that find, fuzzy and content
// search skip unless the caller gives its own list.
func DefaultExcludedDirs() []string {
	return []string{"node_modules", "vendor", ".git", "dist", "build", "target", "__pycache__", ".venv", ".next", "coverage"}
}

// Entry types of search results, as on the wire.
const (
	TypeFile      = "file"
	TypeDirectory = "directory"
)

// WalkOptions are the tree-pruning options shared by the three searches.
type WalkOptions struct {
	// ExcludeDirs are folder names skipped at any depth (not the root
	// itself). nil means DefaultExcludedDirs; an empty, non-nil slice skips
	// none.
	ExcludeDirs []string
	// IncludeHidden also walks names starting with "." (skipped by default).
	IncludeHidden bool
}

// walkEntry is one name met by walkTree.
type walkEntry struct {
	rel string      // slash-separated, relative to the root
	abs string      // absolute path
	typ fs.FileMode // type bits of the entry itself (a symlink stays a symlink)
}

func (e walkEntry) isDir() bool { return e.typ.IsDir() }

// isKernelDir tells the top-level folders of the kernel's pseudo file
// systems, skipped by a walk that starts at "/": they hold no user files,
// hundreds of thousands of entries, and files whose reads block. A search
// that starts inside one of them still walks it.
func isKernelDir(name string) bool {
	switch name {
	case "proc", "sys", "dev":
		return true
	}
	return false
}

// IsKernelFolder reports whether path is one of the kernel's top-level
// folders (see isKernelDir), which a recursive watch of "/" skips as the
// walks do. A method so that the watches ask it of the FS they watch.
func (f *FS) IsKernelFolder(path string) bool {
	return filepath.Dir(path) == "/" && isKernelDir(filepath.Base(path))
}

// errStopWalk, returned by a visit function, ends the walk without error.
var errStopWalk = errors.New("stop walk")

// treeWalker visits a tree depth first, names in byte order, so results
// are deterministic. It never follows a symlinked folder (no loops, no
// escape from the root), skips folders it cannot read, and checks ctx
// between folders so an abandoned request stops soon. The daemon's own
// temporary files are never visited, hidden files included.
type treeWalker struct {
	exclude       map[string]bool
	includeHidden bool
	visit         func(walkEntry) error
	readDir       func(string) ([]os.DirEntry, error) // os.ReadDir; tests make folders fail
}

// walkTree calls visit for every entry under root (not root itself). root
// must be an existing folder (a symlink to one is fine): its absence or
// unreadability is the caller's error, while unreadable subfolders are
// skipped silently. A visit error other than errStopWalk is returned.
func walkTree(ctx context.Context, root string, opts WalkOptions, visit func(walkEntry) error) error {
	if err := checkSearchRoot(root); err != nil {
		return err
	}
	w := treeWalker{exclude: excludeSet(opts.ExcludeDirs), includeHidden: opts.IncludeHidden, visit: visit, readDir: os.ReadDir}
	return w.walk(ctx, root)
}

func (w *treeWalker) walk(ctx context.Context, root string) error {
	err := w.dir(ctx, root, "", true)
	if errors.Is(err, errStopWalk) {
		return nil
	}
	return err
}

// checkSearchRoot tells a missing root (fs.ErrNotExist) and a file root
// (ErrInvalidSearch) apart from a good one.
func checkSearchRoot(root string) error {
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("search root %s: %w", root, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrInvalidSearch, root)
	}
	return nil
}

func excludeSet(names []string) map[string]bool {
	if names == nil {
		names = DefaultExcludedDirs()
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

func (w *treeWalker) dir(ctx context.Context, abs, rel string, isRoot bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := w.readDir(abs)
	if err != nil {
		if isRoot {
			return fmt.Errorf("read %s: %w", abs, err)
		}
		// A folder that vanished or is closed to us is not the caller's
		// problem: the rest of the tree is still worth searching.
		return nil
	}
	for _, d := range entries {
		name := d.Name()
		if !w.includeHidden && strings.HasPrefix(name, ".") || isDaemonTemp(name) {
			continue
		}
		if abs == "/" && isKernelDir(name) {
			continue
		}
		typ := d.Type()
		if typ.IsDir() && w.exclude[name] {
			continue
		}
		e := walkEntry{rel: joinRel(rel, name), abs: joinAbs(abs, name), typ: typ}
		if err := w.visit(e); err != nil {
			return err
		}
		if typ.IsDir() {
			if err := w.dir(ctx, e.abs, e.rel, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinRel(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

func joinAbs(parent, name string) string {
	if strings.HasSuffix(parent, "/") {
		return parent + name
	}
	return parent + "/" + name
}

// entryType is the wire type of an entry: a symlink is reported as what it
// points to (a broken one as a file), everything that is not a folder as a
// file.
func entryType(e walkEntry) string {
	if e.typ.IsDir() {
		return TypeDirectory
	}
	if e.typ&fs.ModeSymlink != 0 {
		if info, err := os.Stat(e.abs); err == nil && info.IsDir() {
			return TypeDirectory
		}
	}
	return TypeFile
}

// maxNamePatterns bounds the patterns of one search: each entry is matched
// against all of them.
const maxNamePatterns = 100

// namePatterns matches entries against shell patterns ("*.go"). A pattern
// without "/" matches the entry's name, one with "/" its whole relative
// path. No pattern matches everything.
type namePatterns []namePattern

// namePattern is one checked pattern. The common forms "*.ext" and a plain
// name skip path.Match, which costs a tenth of a whole walk.
type namePattern struct {
	glob   string
	onPath bool   // the pattern has a "/": match the relative path
	suffix string // the pattern is "*" + suffix, suffix without metacharacters
	exact  bool   // the pattern has no metacharacters at all
}

func (p namePattern) match(rel, name string) bool {
	switch {
	case p.onPath:
		ok, _ := path.Match(p.glob, rel)
		return ok
	case p.exact:
		return name == p.glob
	case p.suffix != "":
		return strings.HasSuffix(name, p.suffix)
	}
	ok, _ := path.Match(p.glob, name)
	return ok
}

// parseNamePatterns checks every pattern once, so a bad one is a clear
// error instead of a silent non-match.
func parseNamePatterns(patterns []string) (namePatterns, error) {
	var out namePatterns
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if len(out) == maxNamePatterns {
			return nil, fmt.Errorf("%w: more than %d patterns", ErrInvalidSearch, maxNamePatterns)
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%w: bad pattern %q: %v", ErrInvalidSearch, p, err)
		}
		np := namePattern{glob: p, onPath: strings.Contains(p, "/")}
		const meta = `*?[\`
		switch {
		case !strings.ContainsAny(p, meta):
			np.exact = true
		case len(p) > 1 && p[0] == '*' && !strings.ContainsAny(p[1:], meta):
			np.suffix = p[1:]
		}
		out = append(out, np)
	}
	return out, nil
}

func (ps namePatterns) match(rel string) bool {
	if len(ps) == 0 {
		return true
	}
	name := rel[strings.LastIndexByte(rel, '/')+1:]
	for _, p := range ps {
		if p.match(rel, name) {
			return true
		}
	}
	return false
}

// clampResults turns a requested maximum into the one used: 0 or anything
// above limit means limit.
func clampResults(requested, limit int) int {
	if requested <= 0 || requested > limit {
		return limit
	}
	return requested
}
