package filesystem

import (
	"container/heap"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFuzzyQuery bounds the query: scoring costs query × path length.
const maxFuzzyQuery = 256

// FuzzyOptions select and rank the entries of a fuzzy search.
type FuzzyOptions struct {
	WalkOptions
	// Query is matched as a subsequence of each relative path, ignoring case
	// and white space. Empty means: the last element of root is the query
	// and its parent the root (the SDK sends the query in the path).
	Query string
	// Patterns are shell patterns ("*.go") an entry must match; none means
	// every entry.
	Patterns []string
	// MaxResults bounds the matches; 0 or more than MaxFindResults means
	// MaxFindResults.
	MaxResults int
}

// FuzzyMatch is one entry whose relative path contains the query.
type FuzzyMatch struct {
	Path  string
	Score int
	Type  string // TypeFile or TypeDirectory
}

// FuzzySearch ranks the entries under root by how well their relative path
// matches the query, best first; equal scores put the shorter path first,
// then byte order. The whole tree is scored, but only the best MaxResults
// are kept (ranking needs them all in hand, so the bound holds even for
// 0); truncated says that more entries matched.
func (f *FS) FuzzySearch(ctx context.Context, root string, opts FuzzyOptions) (matches []FuzzyMatch, truncated bool, err error) {
	defer f.cfg.User.Enter()()
	root, query, err := fuzzyRootAndQuery(f.Resolve(root), opts.Query)
	if err != nil {
		return nil, false, err
	}
	patterns, err := parseNamePatterns(opts.Patterns)
	if err != nil {
		return nil, false, err
	}
	limit := clampResults(opts.MaxResults, MaxFindResults)
	scorer := newFuzzyScorer(query)
	best := &fuzzyHeap{}
	err = walkTree(ctx, root, opts.WalkOptions, func(e walkEntry) error {
		if !patterns.match(e.rel) {
			return nil
		}
		score, ok := scorer.score(e.rel)
		if !ok {
			return nil
		}
		m := FuzzyMatch{Path: e.rel, Score: score}
		if best.Len() == limit {
			truncated = true // one of the two is left out
			if !fuzzyBetter(m, best.items[0]) {
				return nil
			}
			heap.Pop(best)
		}
		m.Type = entryType(e)
		heap.Push(best, m)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	out := make([]FuzzyMatch, best.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(best).(FuzzyMatch)
	}
	return out, truncated, nil
}

// fuzzyRootAndQuery applies the rule for a missing query: the SDK's
// search(query, path) sends only the path, so its last element is the
// query and its parent the root.
func fuzzyRootAndQuery(root, query string) (string, string, error) {
	if query == "" {
		if root == "/" {
			return "", "", fmt.Errorf("%w: no query, and the root / has no last element to use as one", ErrInvalidSearch)
		}
		root, query = filepath.Dir(root), filepath.Base(root)
	}
	query = strings.Join(strings.Fields(query), "")
	if query == "" {
		return "", "", fmt.Errorf("%w: the query is blank", ErrInvalidSearch)
	}
	if utf8.RuneCountInString(query) > maxFuzzyQuery {
		return "", "", fmt.Errorf("%w: the query is longer than %d characters", ErrInvalidSearch, maxFuzzyQuery)
	}
	return root, query, nil
}

// fuzzyBetter orders matches best first: higher score, then shorter path,
// then byte order.
func fuzzyBetter(a, b FuzzyMatch) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if len(a.Path) != len(b.Path) {
		return len(a.Path) < len(b.Path)
	}
	return a.Path < b.Path
}

// fuzzyHeap keeps the best matches with the worst on top, to be evicted.
type fuzzyHeap struct{ items []FuzzyMatch }

func (h *fuzzyHeap) Len() int           { return len(h.items) }
func (h *fuzzyHeap) Less(i, j int) bool { return fuzzyBetter(h.items[j], h.items[i]) }
func (h *fuzzyHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *fuzzyHeap) Push(x any)         { h.items = append(h.items, x.(FuzzyMatch)) }
func (h *fuzzyHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

// Scores of the fuzzy matcher. A matched character earns fuzzyMatch plus a
// bonus for where it sits: at the start of the path or of a path element,
// after a word separator, at a camelCase hump; one that directly follows
// the previous match earns fuzzyConsecutive, and characters of the last
// path element (the name) earn fuzzyInName. Skipped characters between two
// matches cost a gap. Leading and trailing characters are free, so the
// shorter-path tie-break decides among equal alignments.
const (
	fuzzyMatch        = 16
	fuzzyAtElement    = 10 // start of the path or after "/"
	fuzzyAfterSep     = 8  // after "_", "-", "." or a space
	fuzzyCamel        = 7  // upper case after lower case, digit after letter
	fuzzyConsecutive  = 6
	fuzzyInName       = 2
	fuzzyGapStart     = -3
	fuzzyGapExtension = -1
	fuzzyNone         = -1 << 30
)

// fuzzyScorer scores candidates against one query. It keeps scratch rows
// between calls, so it serves one goroutine.
type fuzzyScorer struct {
	query []rune // lower case
	cand  []rune // lower-cased candidate
	bonus []int
	// DP rows: m = best score with query[i] matched exactly at j,
	// h = best score with query[:i+1] matched within cand[:j+1].
	prevM, prevH, curM, curH []int
}

func newFuzzyScorer(query string) *fuzzyScorer {
	return &fuzzyScorer{query: []rune(strings.ToLower(query))}
}

// score returns the best alignment's score of the query in candidate, and
// false when the query is not a subsequence of it.
func (s *fuzzyScorer) score(candidate string) (int, bool) {
	s.prepare(candidate)
	if !s.isSubsequence() {
		return 0, false
	}
	n := len(s.cand)
	for i, q := range s.query {
		for j := 0; j < n; j++ {
			m := fuzzyNone
			if s.cand[j] == q && j >= i {
				gain := fuzzyMatch + s.bonus[j]
				if i == 0 {
					m = gain
				} else if j > 0 {
					if s.prevH[j-1] > fuzzyNone {
						m = s.prevH[j-1] + fuzzyGapStart + gain
					}
					if s.prevM[j-1] > fuzzyNone {
						m = max(m, s.prevM[j-1]+fuzzyConsecutive+gain)
					}
				}
			}
			h := m
			if j > 0 && s.curH[j-1] > fuzzyNone {
				h = max(h, s.curH[j-1]+fuzzyGapExtension)
			}
			s.curM[j], s.curH[j] = m, h
		}
		s.prevM, s.curM = s.curM, s.prevM
		s.prevH, s.curH = s.curH, s.prevH
	}
	best := fuzzyNone
	for _, m := range s.prevM[:n] {
		best = max(best, m)
	}
	return best, best > fuzzyNone
}

// prepare lower-cases the candidate and computes each position's bonus.
func (s *fuzzyScorer) prepare(candidate string) {
	s.cand = s.cand[:0]
	s.bonus = s.bonus[:0]
	nameStart := strings.LastIndexByte(candidate, '/') + 1
	prev := rune('/')
	for i, r := range candidate {
		b := 0
		switch {
		case prev == '/':
			b = fuzzyAtElement
		case prev == '_' || prev == '-' || prev == '.' || prev == ' ':
			b = fuzzyAfterSep
		case unicode.IsUpper(r) && unicode.IsLower(prev),
			unicode.IsDigit(r) && unicode.IsLetter(prev):
			b = fuzzyCamel
		}
		if i >= nameStart {
			b += fuzzyInName
		}
		s.cand = append(s.cand, unicode.ToLower(r))
		s.bonus = append(s.bonus, b)
		prev = r
	}
	if n := len(s.cand); cap(s.prevM) < n {
		s.prevM, s.prevH = make([]int, n), make([]int, n)
		s.curM, s.curH = make([]int, n), make([]int, n)
	}
}

func (s *fuzzyScorer) isSubsequence() bool {
	i := 0
	for _, c := range s.cand {
		if i < len(s.query) && c == s.query[i] {
			i++
		}
	}
	return i == len(s.query)
}
