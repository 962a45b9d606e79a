package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/watch"
)

// boundsConfig holds the flags of the bounds that keep one client from
// growing the daemon without end; each default is the owning package's.
type boundsConfig struct {
	maxHeavyReads   int
	maxWatchFolders int
	maxUploads      int
}

// registerBoundsFlags adds the bounds' flags to fs, filling b.
func registerBoundsFlags(fs *flag.FlagSet, b *boundsConfig) {
	fs.IntVar(&b.maxHeavyReads, "max-heavy-reads", filesystem.DefaultMaxHeavyReads,
		"trees, listings, searches and reads of kernel files served at once; more wait their turn")
	fs.IntVar(&b.maxWatchFolders, "max-watch-folders", watch.DefaultMaxFolders,
		"folders one recursive watch holds; past it an ERROR event says which are not watched")
	fs.IntVar(&b.maxUploads, "max-uploads", filesystem.DefaultMaxUploads,
		"multipart uploads open at once; past it an initiate is answered 429")
}

// validate checks the bounds set by flags.
func (b boundsConfig) validate() error {
	var errs []error
	for _, f := range []struct {
		name  string
		value int
	}{
		{"max-heavy-reads", b.maxHeavyReads},
		{"max-watch-folders", b.maxWatchFolders},
		{"max-uploads", b.maxUploads},
	} {
		if f.value <= 0 {
			errs = append(errs, fmt.Errorf("--%s %d: must be positive", f.name, f.value))
		}
	}
	return errors.Join(errs...)
}
