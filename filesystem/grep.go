package filesystem

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Bounds of a content search, whatever the caller asks.
const (
	// MaxContentResults bounds the matching lines of one search.
	MaxContentResults = 1000
	// MaxContextLines bounds the lines shown before and after a match.
	MaxContextLines = 10
	// MaxLineBytes bounds each line in a result: a minified file's one
	// huge line comes back as a window around the match.
	MaxLineBytes = 512
	// maxQueryBytes bounds the query itself.
	maxQueryBytes = 4096
	// binarySniffBytes: a NUL byte in the first 8 KiB marks a binary file.
	binarySniffBytes = 8 << 10
	// grepBufferBytes is each worker's read buffer; it grows for longer
	// lines up to grepMaxBufferBytes, past which the rest of the file is
	// skipped.
	grepBufferBytes    = 256 << 10
	grepMaxBufferBytes = 16 << 20
	// Files go to the workers in batches of grepBatchFiles, consecutive in
	// walk order: one hand-off per batch, not per file, keeps the workers
	// busy on trees of small files. At most grepWindowBatches batches are
	// out at once, which bounds the results held back for ordering.
	grepBatchFiles    = 32
	grepWindowBatches = 4
)

// ContentSearchOptions select what a content search looks for and where.
type ContentSearchOptions struct {
	WalkOptions
	// Query is a literal string (not a pattern) found within one line.
	Query string
	// CaseSensitive compares bytes exactly; by default case is ignored.
	CaseSensitive bool
	// ContextLines before and after each match go into Context; more than
	// MaxContextLines means MaxContextLines.
	ContextLines int
	// FilePatterns are shell patterns ("*.go") a file must match; none means
	// every file.
	FilePatterns []string
	// MaxResults bounds the matching lines; 0 or more than
	// MaxContentResults means MaxContentResults.
	MaxResults int
}

// ContentMatch is one line that contains the query.
type ContentMatch struct {
	Path    string // relative to the search root
	Line    int    // 1-based
	Column  int    // 1-based, in characters, of the first match on the line
	Text    string // the line, or a window of it around the match
	Context string // the lines around it and itself, joined by "\n"; "" without context lines
}

// SearchContent finds the lines of the regular files under root that contain
// the query. Binary files are skipped, symlinks are not followed, files are
// searched in parallel, and the search stops once one line more than
// MaxResults is found: truncated says there was more. Results come in walk
// order of their files (folder by folder, names in byte order), then by
// line: the same request gives the same answer.
func (f *FS) SearchContent(ctx context.Context, root string, opts ContentSearchOptions) (matches []ContentMatch, truncated bool, err error) {
	defer f.cfg.User.Enter()()
	find, err := newLineFinder(opts.Query, opts.CaseSensitive)
	if err != nil {
		return nil, false, err
	}
	patterns, err := parseNamePatterns(opts.FilePatterns)
	if err != nil {
		return nil, false, err
	}
	root = f.Resolve(root)
	if err := checkSearchRoot(root); err != nil {
		return nil, false, err
	}
	s := &contentSearch{
		root:     root,
		walk:     opts.WalkOptions,
		patterns: patterns,
		finder:   find,
		context:  min(max(opts.ContextLines, 0), MaxContextLines),
		limit:    clampResults(opts.MaxResults, MaxContentResults),
		user:     f.cfg.User,
	}
	return s.run(ctx)
}

// contentSearch is one SearchContent call: a walker feeds batches of files
// to a pool of GOMAXPROCS workers; each batch's result comes back through
// its own channel, queued in walk order, so the collector emits in a fixed
// order however the workers race, and cancels everything once it has
// enough.
type contentSearch struct {
	root     string
	walk     WalkOptions
	patterns namePatterns
	finder   lineFinder
	context  int
	limit    int
	user     *runas.User // the walker and the workers act as this user
}

// grepBatch is a run of consecutive files for one worker; its matches, in
// order, come back on result.
type grepBatch struct {
	files  []grepTarget
	result chan []ContentMatch // buffered, 1
}

type grepTarget struct{ abs, rel string }

func (s *contentSearch) run(parent context.Context) (matches []ContentMatch, truncated bool, err error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	// The walker queues each batch on ordered (for the collector) before
	// handing it to the workers; ordered's capacity is the window.
	jobs := make(chan *grepBatch, grepWindowBatches)
	ordered := make(chan *grepBatch, grepWindowBatches)
	walkErr := make(chan error, 1)
	go func() {
		defer s.user.Enter()()
		defer close(ordered)
		defer close(jobs)
		walkErr <- s.feed(ctx, ordered, jobs)
	}()

	// needed is how many more matches the collector takes: a batch stops
	// at that many, so late batches do not pile up unneeded results. One
	// past the limit is taken, to tell a cut answer from a complete one.
	var needed atomic.Int64
	needed.Store(int64(s.limit + 1))
	workers := max(runtime.GOMAXPROCS(0), 1)
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			defer s.user.Enter()()
			g := newFileGrep(s.finder, s.context)
			for batch := range jobs {
				batch.result <- g.batch(ctx, batch.files, int(needed.Load()))
			}
		}()
	}

	matches = []ContentMatch{}
collect:
	for batch := range ordered {
		select {
		case found := <-batch.result:
			matches = append(matches, found...)
		case <-ctx.Done():
			break collect
		}
		if len(matches) > s.limit {
			matches, truncated = matches[:s.limit], true
			break collect
		}
		needed.Store(int64(s.limit + 1 - len(matches)))
	}
	cancel()
	// Drain so that the walker's sends end, then wait for every worker:
	// nothing of this search outlives the call.
	for range ordered {
	}
	for range workers {
		<-done
	}
	err = <-walkErr
	if perr := parent.Err(); perr != nil {
		return nil, false, perr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, false, err
	}
	return matches, truncated, nil
}

// feed walks the tree and sends each batch of files first to ordered, for
// the collector, then to jobs, for the workers.
func (s *contentSearch) feed(ctx context.Context, ordered, jobs chan<- *grepBatch) error {
	batch := &grepBatch{}
	send := func() error {
		if len(batch.files) == 0 {
			return nil
		}
		batch.result = make(chan []ContentMatch, 1)
		for _, ch := range []chan<- *grepBatch{ordered, jobs} {
			select {
			case ch <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		batch = &grepBatch{files: make([]grepTarget, 0, grepBatchFiles)}
		return nil
	}
	err := walkTree(ctx, s.root, s.walk, func(e walkEntry) error {
		if !e.typ.IsRegular() || !s.patterns.match(e.rel) {
			return nil
		}
		batch.files = append(batch.files, grepTarget{abs: e.abs, rel: e.rel})
		if len(batch.files) == grepBatchFiles {
			return send()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return send()
}
