package mcp

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// Bounds of the code navigation tools: an agent refines a query more
// usefully than it reads a thousand results.
const (
	maxSearchResults = 100
	maxListEntries   = 500
)

// FileSearchIn are codegenFileSearch's arguments, the existing daemon's.
type FileSearchIn struct {
	Query     string `json:"query" jsonschema:"characters of the file name or path, matched in order (fuzzy), e.g. srvgo for server.go"`
	Directory string `json:"directory,omitempty" jsonschema:"folder to search under (default: the working directory)"`
}

// FileSearchOut is codegenFileSearch's answer.
type FileSearchOut struct {
	Directory string   `json:"directory" jsonschema:"the folder searched"`
	Files     []string `json:"files" jsonschema:"paths relative to directory, best match first"`
	Note      string   `json:"note,omitempty" jsonschema:"a remark, e.g. that results were cut"`
}

// GrepIn are codegenGrepSearch's arguments: the existing daemon's, and
// directory.
type GrepIn struct {
	Query          string `json:"query" jsonschema:"literal text to find (not a regular expression)"`
	CaseSensitive  bool   `json:"caseSensitive,omitempty" jsonschema:"compare case exactly (default: ignore case)"`
	IncludePattern string `json:"includePattern,omitempty" jsonschema:"shell pattern a file must match, e.g. *.go (several: comma-separated); a pattern with a / matches the path relative to directory"`
	ExcludePattern string `json:"excludePattern,omitempty" jsonschema:"shell pattern of files to skip, e.g. *_test.go (several: comma-separated); a pattern with a / matches the path relative to directory"`
	Directory      string `json:"directory,omitempty" jsonschema:"folder to search under (default: the working directory)"`
}

// GrepMatch is one matching line.
type GrepMatch struct {
	Path string `json:"path" jsonschema:"file, relative to directory"`
	Line int    `json:"line" jsonschema:"1-based line number"`
	Text string `json:"text" jsonschema:"the matching line"`
}

// GrepOut is codegenGrepSearch's answer.
type GrepOut struct {
	Directory string      `json:"directory" jsonschema:"the folder searched"`
	Matches   []GrepMatch `json:"matches" jsonschema:"matching lines in file order"`
	Note      string      `json:"note,omitempty" jsonschema:"a remark, e.g. that results were cut"`
}

// ListDirIn are codegenListDir's arguments, the existing daemon's.
type ListDirIn struct {
	RelativeWorkspacePath string `json:"relativeWorkspacePath,omitempty" jsonschema:"folder to list recursively, relative to the working directory or absolute (default: the working directory); hidden and dependency folders are skipped"`
}

// ListDirRecOut is codegenListDir's answer.
type ListDirRecOut struct {
	Path    string   `json:"path" jsonschema:"the folder"`
	Entries []string `json:"entries" jsonschema:"relative paths, folders ending in /"`
	Note    string   `json:"note,omitempty" jsonschema:"a remark, e.g. that the list was cut"`
}

// dir resolves a folder argument; empty is the working directory.
func (t *tools) dir(d string) string {
	if d == "" {
		return t.svc.Files.WorkingDir()
	}
	return t.svc.Files.Resolve(d)
}

func (t *tools) codeTools() []tool {
	return []tool{
		newTool("codegenFileSearch", fmt.Sprintf("Find files whose path fuzzily matches a query (like an editor's quick open). Returns at most %d paths, best first.", maxSearchResults), t.fileSearch),
		newTool("codegenGrepSearch", fmt.Sprintf("Search file contents for literal text. Returns at most %d matching lines with their file and line number; binary files, hidden and dependency folders are skipped.", maxSearchResults), t.grep),
		newTool("codegenReadFileRange", fmt.Sprintf("Read lines startLineOneIndexed..endLineOneIndexedInclusive of a text file, each prefixed with its line number. At most %d lines per call.", maxRangeLines),
			func(ctx context.Context, in RangeIn) (RangeOut, error) {
				return t.readRange(in)
			}),
		newTool("codegenListDir", fmt.Sprintf("List a folder recursively (at most %d entries), skipping hidden and dependency folders such as node_modules and .git.", maxListEntries), t.listDir),
	}
}

func (t *tools) fileSearch(ctx context.Context, in FileSearchIn) (FileSearchOut, error) {
	if strings.TrimSpace(in.Query) == "" {
		return FileSearchOut{}, errors.New("query is required")
	}
	release, err := t.svc.Files.WaitHeavyRead(ctx) // shared with the HTTP API's searches
	if err != nil {
		return FileSearchOut{}, err
	}
	defer release()
	root := t.dir(in.Directory)
	ms, _, err := t.svc.Files.FuzzySearch(ctx, root, filesystem.FuzzyOptions{Query: in.Query, MaxResults: maxSearchResults + 1})
	if err != nil {
		return FileSearchOut{}, fmt.Errorf("%s: %w", root, err)
	}
	out := FileSearchOut{Directory: root, Files: []string{}}
	for _, m := range ms {
		if m.Type == filesystem.TypeFile {
			out.Files = append(out.Files, m.Path)
		}
	}
	if len(ms) > maxSearchResults {
		out.Note = "more matches exist; refine the query or the directory"
		if len(out.Files) > maxSearchResults {
			out.Files = out.Files[:maxSearchResults]
		}
	}
	return out, nil
}

func (t *tools) grep(ctx context.Context, in GrepIn) (GrepOut, error) {
	if in.Query == "" {
		return GrepOut{}, errors.New("query is required")
	}
	exclude, err := globList(in.ExcludePattern)
	if err != nil {
		return GrepOut{}, fmt.Errorf("excludePattern: %w", err)
	}
	// The content search has no exclusion of its own: with one, it is
	// asked for as many lines as it gives and the excluded files are
	// dropped here.
	limit := maxSearchResults + 1
	if len(exclude) > 0 {
		limit = filesystem.MaxContentResults
	}
	release, err := t.svc.Files.WaitHeavyRead(ctx)
	if err != nil {
		return GrepOut{}, err
	}
	defer release()
	root := t.dir(in.Directory)
	ms, _, err := t.svc.Files.SearchContent(ctx, root, filesystem.ContentSearchOptions{Query: in.Query, CaseSensitive: in.CaseSensitive,
		FilePatterns: splitPatterns(in.IncludePattern), MaxResults: limit})
	if err != nil {
		return GrepOut{}, fmt.Errorf("%s: %w", root, err)
	}
	out := GrepOut{Directory: root, Matches: []GrepMatch{}}
	for _, m := range ms {
		if matchesAny(exclude, m.Path) {
			continue
		}
		if len(out.Matches) == maxSearchResults {
			out.Note = fmt.Sprintf("only the first %d matches; narrow the query, directory or includePattern", maxSearchResults)
			break
		}
		out.Matches = append(out.Matches, GrepMatch{Path: m.Path, Line: m.Line, Text: m.Text})
	}
	if out.Note == "" && len(exclude) > 0 && len(ms) == limit {
		out.Note = fmt.Sprintf("the search stopped after %d lines, most of them in excluded files; narrow the directory or includePattern", limit)
	}
	return out, nil
}

func (t *tools) listDir(ctx context.Context, in ListDirIn) (ListDirRecOut, error) {
	root := t.dir(in.RelativeWorkspacePath)
	ms, _, err := t.svc.Files.Find(ctx, root, filesystem.FindOptions{MaxResults: maxListEntries + 1, ExcludeRoot: true})
	if err != nil {
		return ListDirRecOut{}, fmt.Errorf("%s: %w", root, err)
	}
	out := ListDirRecOut{Path: root, Entries: []string{}}
	if len(ms) > maxListEntries {
		ms = ms[:maxListEntries]
		out.Note = fmt.Sprintf("only the first %d entries; list a subfolder to see more", maxListEntries)
	}
	for _, m := range ms {
		p := m.Path
		if m.Type == filesystem.TypeDirectory {
			p += "/"
		}
		out.Entries = append(out.Entries, p)
	}
	return out, nil
}

// splitPatterns reads a comma-separated list of shell patterns.
func splitPatterns(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// globList reads and checks a comma-separated list of shell patterns.
func globList(s string) ([]string, error) {
	ps := splitPatterns(s)
	for _, p := range ps {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", p, err)
		}
	}
	return ps, nil
}

// matchesAny tells whether rel (slash-separated, relative to the search
// root) matches one of the patterns: a pattern with a / is matched against
// the path, others against the base name, as the content search does.
func matchesAny(patterns []string, rel string) bool {
	name := path.Base(rel)
	for _, p := range patterns {
		target := name
		if strings.Contains(p, "/") {
			target = rel
		}
		if ok, _ := path.Match(p, target); ok {
			return true
		}
	}
	return false
}
