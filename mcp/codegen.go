package mcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// Bounds of the code navigation tools.
const (
	maxSearchResults = 100
	maxListEntries   = 500
	maxRangeLines    = 2000
)

type FileSearchIn struct {
	Query     string `json:"query" jsonschema:"characters of the file name or path, matched in order (fuzzy), e.g. srvgo for server.go"`
	Directory string `json:"directory,omitempty" jsonschema:"folder to search under (default: the working directory)"`
}

type FileSearchOut struct {
	Directory string   `json:"directory" jsonschema:"the folder searched"`
	Files     []string `json:"files" jsonschema:"paths relative to directory, best match first"`
	Note      string   `json:"note,omitempty" jsonschema:"a remark, e.g. that results were cut"`
}

type GrepIn struct {
	Query         string   `json:"query" jsonschema:"literal text to find (not a regular expression)"`
	Directory     string   `json:"directory,omitempty" jsonschema:"folder to search under (default: the working directory)"`
	FilePatterns  []string `json:"filePatterns,omitempty" jsonschema:"shell patterns a file name must match, e.g. *.go"`
	CaseSensitive bool     `json:"caseSensitive,omitempty" jsonschema:"compare case exactly (default: ignore case)"`
}

type GrepMatch struct {
	Path string `json:"path" jsonschema:"file, relative to directory"`
	Line int    `json:"line" jsonschema:"1-based line number"`
	Text string `json:"text" jsonschema:"the matching line"`
}

type GrepOut struct {
	Directory string      `json:"directory" jsonschema:"the folder searched"`
	Matches   []GrepMatch `json:"matches" jsonschema:"matching lines in file order"`
	Note      string      `json:"note,omitempty" jsonschema:"a remark, e.g. that results were cut"`
}

type RangeIn struct {
	Path      string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	StartLine int    `json:"startLine,omitempty" jsonschema:"first line, 1-based (default 1)"`
	EndLine   int    `json:"endLine,omitempty" jsonschema:"last line, inclusive (default: startLine + 199)"`
}

type RangeOut struct {
	Path      string `json:"path" jsonschema:"the file"`
	StartLine int    `json:"startLine" jsonschema:"first line returned"`
	EndLine   int    `json:"endLine" jsonschema:"last line returned (0 when none)"`
	Content   string `json:"content" jsonschema:"the lines, each prefixed with its number and a tab"`
	Note      string `json:"note,omitempty" jsonschema:"how to read more"`
}

type ListDirIn struct {
	Path string `json:"path,omitempty" jsonschema:"folder to list recursively (default: the working directory); hidden and dependency folders are skipped"`
}

type ListDirRecOut struct {
	Path    string   `json:"path" jsonschema:"the folder"`
	Entries []string `json:"entries" jsonschema:"relative paths, folders ending in /"`
	Note    string   `json:"note,omitempty" jsonschema:"a remark, e.g. that the list was cut"`
}

func (t *tools) dir(d string) string {
	if d == "" {
		return t.svc.Files.WorkingDir()
	}
	return t.svc.Files.Resolve(d)
}

func (t *tools) registerCodegen(s *sdk.Server) {
	f := t.svc.Files
	sdk.AddTool(s, &sdk.Tool{Name: "codegenFileSearch", Description: fmt.Sprintf("Find files whose path fuzzily matches a query (like an editor's quick open). Returns at most %d paths, best first.", maxSearchResults)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in FileSearchIn) (*sdk.CallToolResult, FileSearchOut, error) {
			if strings.TrimSpace(in.Query) == "" {
				return nil, FileSearchOut{}, errors.New("query is required")
			}
			root := t.dir(in.Directory)
			ms, _, err := f.FuzzySearch(ctx, root, filesystem.FuzzyOptions{Query: in.Query, MaxResults: maxSearchResults + 1})
			if err != nil {
				return nil, FileSearchOut{}, err
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
			return nil, out, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "codegenGrepSearch", Description: fmt.Sprintf("Search file contents for literal text. Returns at most %d matching lines with their file and line number; binary files, hidden and dependency folders are skipped.", maxSearchResults)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in GrepIn) (*sdk.CallToolResult, GrepOut, error) {
			if in.Query == "" {
				return nil, GrepOut{}, errors.New("query is required")
			}
			root := t.dir(in.Directory)
			ms, _, err := f.SearchContent(ctx, root, filesystem.ContentSearchOptions{Query: in.Query, CaseSensitive: in.CaseSensitive,
				FilePatterns: in.FilePatterns, MaxResults: maxSearchResults + 1})
			if err != nil {
				return nil, GrepOut{}, err
			}
			out := GrepOut{Directory: root, Matches: []GrepMatch{}}
			if len(ms) > maxSearchResults {
				ms = ms[:maxSearchResults]
				out.Note = fmt.Sprintf("only the first %d matches; narrow the query, directory or filePatterns", maxSearchResults)
			}
			for _, m := range ms {
				out.Matches = append(out.Matches, GrepMatch{Path: m.Path, Line: m.Line, Text: m.Text})
			}
			return nil, out, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "codegenReadFileRange", Description: fmt.Sprintf("Read lines startLine..endLine of a text file, each prefixed with its line number. At most %d lines per call.", maxRangeLines)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in RangeIn) (*sdk.CallToolResult, RangeOut, error) {
			out, err := t.readRange(in)
			return nil, out, err
		})
	sdk.AddTool(s, &sdk.Tool{Name: "codegenListDir", Description: fmt.Sprintf("List a folder recursively (at most %d entries), skipping hidden and dependency folders such as node_modules and .git.", maxListEntries)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in ListDirIn) (*sdk.CallToolResult, ListDirRecOut, error) {
			root := t.dir(in.Path)
			ms, _, err := f.Find(ctx, root, filesystem.FindOptions{MaxResults: maxListEntries + 1, ExcludeRoot: true})
			if err != nil {
				return nil, ListDirRecOut{}, fmt.Errorf("%s: %w", root, err)
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
			return nil, out, nil
		})
}

func (t *tools) readRange(in RangeIn) (RangeOut, error) {
	start, end := in.StartLine, in.EndLine
	if start <= 0 {
		start = 1
	}
	if end <= 0 {
		end = start + 199
	}
	if end < start {
		return RangeOut{}, fmt.Errorf("endLine %d is before startLine %d", end, start)
	}
	note := ""
	if end-start+1 > maxRangeLines {
		end = start + maxRangeLines - 1
		note = fmt.Sprintf("at most %d lines per call", maxRangeLines)
	}
	file, info, err := t.svc.Files.OpenFile(in.Path)
	if err != nil {
		return RangeOut{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	defer file.Close()
	if info.IsDir {
		return RangeOut{}, fmt.Errorf("%s is a folder; use codegenListDir", in.Path)
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var b strings.Builder
	n, last := 0, 0
	more := false
	for sc.Scan() {
		n++
		if n < start {
			continue
		}
		if n > end || b.Len() > MaxReadBytes {
			more = true
			break
		}
		fmt.Fprintf(&b, "%d\t%s\n", n, sc.Text())
		last = n
	}
	if err := sc.Err(); err != nil {
		return RangeOut{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	out := RangeOut{Path: info.Path, StartLine: start, EndLine: last, Content: b.String()}
	if last == 0 {
		out.Note = fmt.Sprintf("the file has %d lines", n)
	} else if more {
		out.Note = strings.TrimPrefix(note+"; more lines follow: call again with startLine "+fmt.Sprint(last+1), "; ")
	}
	return out, nil
}
