package filesystem

import (
	"context"
	"fmt"
)

// MaxFindResults bounds the matches Find collects in memory, whatever the
// caller asks. FindEach, which hands each match on as it is found, has no
// such bound.
const MaxFindResults = 10000

// RootPath is how a search names its own root among its matches, as
// find(1) names its starting point ".".
const RootPath = "."

// FindOptions select the entries of a find.
type FindOptions struct {
	WalkOptions
	// Type is "" (files and folders), TypeFile or TypeDirectory.
	Type string
	// Patterns are shell patterns ("*.go"); an entry matches any of them.
	// None means every entry. The root is matched as ".".
	Patterns []string
	// MaxResults bounds the matches; 0 means none for FindEach, and
	// MaxFindResults for Find, as does anything above it.
	MaxResults int
	// ExcludeRoot leaves the root itself out: a listing of what is inside.
	ExcludeRoot bool
}

// FindMatch is one entry found, its path relative to the search root.
type FindMatch struct {
	Path string
	Type string // TypeFile or TypeDirectory
}

// FindEach calls emit with each entry that matches opts: first the root
// itself, as RootPath (a folder, like find(1)'s starting point), then the
// entries under it in walk order (folder by folder, names in byte order).
// Nothing is kept, so any number of matches costs the same memory. It
// stops after MaxResults matches (0: never) and reports truncated when
// more existed. An error from emit ends the search and is returned.
func (f *FS) FindEach(ctx context.Context, root string, opts FindOptions, emit func(FindMatch) error) (truncated bool, err error) {
	defer f.cfg.User.Enter()()
	switch opts.Type {
	case "", TypeFile, TypeDirectory:
	default:
		return false, fmt.Errorf("%w: type %q is neither %q nor %q", ErrInvalidSearch, opts.Type, TypeFile, TypeDirectory)
	}
	patterns, err := parseNamePatterns(opts.Patterns)
	if err != nil {
		return false, err
	}
	root = f.Resolve(root)
	if err := checkSearchRoot(root); err != nil {
		return false, err
	}
	found := 0
	take := func(rel, typ string) error {
		if !patterns.match(rel) || (opts.Type != "" && typ != opts.Type) {
			return nil
		}
		if opts.MaxResults > 0 && found == opts.MaxResults {
			truncated = true // one more than asked for: the answer is cut
			return errStopWalk
		}
		found++
		return emit(FindMatch{Path: rel, Type: typ})
	}
	if !opts.ExcludeRoot {
		// checkSearchRoot made sure it is a folder. MaxResults is at
		// least 1 when set, so the root is never the one too many.
		if err := take(RootPath, TypeDirectory); err != nil {
			return false, err
		}
	}
	err = walkTree(ctx, root, opts.WalkOptions, func(e walkEntry) error {
		return take(e.rel, entryType(e))
	})
	if err != nil {
		return false, err
	}
	return truncated, nil
}

// Find collects what FindEach finds, at most MaxFindResults matches, and
// reports whether more existed.
func (f *FS) Find(ctx context.Context, root string, opts FindOptions) (matches []FindMatch, truncated bool, err error) {
	opts.MaxResults = clampResults(opts.MaxResults, MaxFindResults)
	matches = []FindMatch{}
	truncated, err = f.FindEach(ctx, root, opts, func(m FindMatch) error {
		matches = append(matches, m)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return matches, truncated, nil
}
