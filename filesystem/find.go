package filesystem

import (
	"context"
	"fmt"
)

// MaxFindResults bounds the matches of one find or fuzzy search, whatever
// the caller asks: a response stays a few MB at most.
const MaxFindResults = 10000

// FindOptions select the entries of a find.
type FindOptions struct {
	WalkOptions
	// Type is "" (files and folders), TypeFile or TypeDirectory.
	Type string
	// Patterns are shell patterns ("*.go"); an entry matches any of them.
	// None means every entry.
	Patterns []string
	// MaxResults bounds the matches; 0 or more than MaxFindResults means
	// MaxFindResults.
	MaxResults int
}

// FindMatch is one entry found, its path relative to the search root.
type FindMatch struct {
	Path string
	Type string // TypeFile or TypeDirectory
}

// Find lists the entries under root that match opts, in walk order (folder
// by folder, names in byte order), and stops at MaxResults.
func (f *FS) Find(ctx context.Context, root string, opts FindOptions) ([]FindMatch, error) {
	switch opts.Type {
	case "", TypeFile, TypeDirectory:
	default:
		return nil, fmt.Errorf("%w: type %q is neither %q nor %q", ErrInvalidSearch, opts.Type, TypeFile, TypeDirectory)
	}
	patterns, err := parseNamePatterns(opts.Patterns)
	if err != nil {
		return nil, err
	}
	limit := clampResults(opts.MaxResults, MaxFindResults)
	matches := []FindMatch{}
	err = walkTree(ctx, f.Resolve(root), opts.WalkOptions, func(e walkEntry) error {
		if !patterns.match(e.rel) {
			return nil
		}
		typ := entryType(e)
		if opts.Type != "" && typ != opts.Type {
			return nil
		}
		matches = append(matches, FindMatch{Path: e.rel, Type: typ})
		if len(matches) >= limit {
			return errStopWalk
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return matches, nil
}
