package server

// Routes and handlers of the three searches: /filesystem-find (its
// streamed answer is in filesystem_find.go), /filesystem-search (fuzzy) and
// /filesystem-content-search. They only translate query parameters to
// filesystem options and results to the wire shapes.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// Wire defaults of maxResults, from the contract.
const (
	defaultFindResults    = 20
	defaultFuzzyResults   = 20
	defaultContentResults = 100
)

type fuzzyMatchJSON struct {
	Path  string `json:"path"`
	Score int    `json:"score"`
	Type  string `json:"type"`
}

// Answers of the searches. truncated is always there: true when more
// matches existed than the answer holds, never a silent cut.
type fuzzyResponseJSON struct {
	Matches   []fuzzyMatchJSON `json:"matches"`
	Total     int              `json:"total"`
	Truncated bool             `json:"truncated"`
}

type contentMatchJSON struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Text    string `json:"text"`
	Context string `json:"context,omitempty"`
}

// contentSearchResponseJSON has the existing daemon's field order.
type contentSearchResponseJSON struct {
	Query     string             `json:"query"`
	Matches   []contentMatchJSON `json:"matches"`
	Total     int                `json:"total"`
	Truncated bool               `json:"truncated"`
}

func (h *filesystemHandlers) fuzzySearch(w http.ResponseWriter, r *http.Request) {
	root, q, ok := searchRequest(w, r, fuzzyPrefix)
	if !ok {
		return
	}
	opts := filesystem.FuzzyOptions{Query: q.Get("query"), Patterns: splitList(q.Get("patterns"))}
	var err error
	if opts.WalkOptions, err = walkOptionsFrom(q); err == nil {
		opts.MaxResults, err = intParam(q, "maxResults", defaultFuzzyResults, filesystem.MaxFindResults)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	release, ok := h.waitHeavyRead(w, r)
	if !ok {
		return
	}
	defer release()
	found, truncated, err := h.fs.FuzzySearch(r.Context(), root, opts)
	if err != nil {
		writeFailure(w, err)
		return
	}
	resp := fuzzyResponseJSON{Matches: make([]fuzzyMatchJSON, len(found)), Total: len(found), Truncated: truncated}
	for i, m := range found {
		resp.Matches[i] = fuzzyMatchJSON(m)
	}
	writeHeavyJSON(w, resp)
}

func (h *filesystemHandlers) contentSearch(w http.ResponseWriter, r *http.Request) {
	root, q, ok := searchRequest(w, r, contentSearchPrefix)
	if !ok {
		return
	}
	if !q.Has("query") || q.Get("query") == "" {
		writeError(w, http.StatusBadRequest, "query is required")
		return
	}
	opts := filesystem.ContentSearchOptions{Query: q.Get("query"), FilePatterns: splitList(q.Get("filePattern"))}
	var err error
	opts.WalkOptions, err = walkOptionsFrom(q)
	if err == nil {
		opts.CaseSensitive, err = boolParam(q, "caseSensitive", false)
	}
	if err == nil {
		opts.ContextLines, err = intParam(q, "contextLines", 0, filesystem.MaxContextLines)
	}
	if err == nil {
		opts.MaxResults, err = intParam(q, "maxResults", defaultContentResults, filesystem.MaxContentResults)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	release, ok := h.waitHeavyRead(w, r)
	if !ok {
		return
	}
	defer release()
	found, truncated, err := h.fs.SearchContent(r.Context(), root, opts)
	if err != nil {
		writeFailure(w, err)
		return
	}
	resp := contentSearchResponseJSON{Query: opts.Query, Matches: make([]contentMatchJSON, len(found)), Total: len(found), Truncated: truncated}
	for i, m := range found {
		resp.Matches[i] = contentMatchJSON(m)
	}
	writeHeavyJSON(w, resp)
}

// searchRequest decodes the root after prefix (bare prefix: the working
// directory) and the query parameters; on failure it answers 400.
func searchRequest(w http.ResponseWriter, r *http.Request, prefix string) (string, url.Values, bool) {
	root := ""
	if r.URL.EscapedPath() != prefix {
		var err error
		if root, err = pathAfter(r, prefix+"/"); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return "", nil, false
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid query string: "+err.Error())
		return "", nil, false
	}
	return root, q, true
}

// walkOptionsFrom reads excludeDirs and excludeHidden. An absent
// excludeDirs keeps the default list; a present one, even empty, replaces
// it.
func walkOptionsFrom(q url.Values) (filesystem.WalkOptions, error) {
	var opts filesystem.WalkOptions
	if q.Has("excludeDirs") {
		opts.ExcludeDirs = splitList(q.Get("excludeDirs"))
		if opts.ExcludeDirs == nil {
			opts.ExcludeDirs = []string{}
		}
	}
	excludeHidden, err := boolParam(q, "excludeHidden", true)
	opts.IncludeHidden = !excludeHidden
	return opts, err
}

// splitList splits a comma-separated parameter, dropping blank items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// intParam reads a non-negative integer; absent or empty gives def, and
// values above limit are cut to it (the answer then says truncated).
func intParam(q url.Values, name string, def, limit int) (int, error) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, raw)
	}
	return min(n, limit), nil
}

// boolParam reads true/false (and the other forms strconv accepts); absent
// or empty gives def.
func boolParam(q url.Values, name string, def bool) (bool, error) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, got %q", name, raw)
	}
	return b, nil
}
