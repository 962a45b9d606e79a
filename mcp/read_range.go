package mcp

import (
	"bufio"
	"fmt"
	"strings"
)

// Bounds of codegenReadFileRange: a range without an end gets
// defaultRangeLines, and no call returns more than maxRangeLines (nor more
// than about MaxReadBytes).
const (
	defaultRangeLines = 200
	maxRangeLines     = 2000
)

// RangeIn are codegenReadFileRange's arguments, the existing daemon's.
type RangeIn struct {
	TargetFile string `json:"targetFile" jsonschema:"the file: absolute path, or relative to the working directory"`
	StartLine  int    `json:"startLineOneIndexed,omitempty" jsonschema:"first line to read, 1-based (default 1)"`
	EndLine    int    `json:"endLineOneIndexedInclusive,omitempty" jsonschema:"last line to read, inclusive (default: startLineOneIndexed + 199)"`
}

// RangeOut is codegenReadFileRange's answer.
type RangeOut struct {
	Path      string `json:"path" jsonschema:"the file"`
	StartLine int    `json:"startLine" jsonschema:"first line returned"`
	EndLine   int    `json:"endLine" jsonschema:"last line returned (0 when none)"`
	Content   string `json:"content" jsonschema:"the lines, each prefixed with its number and a tab"`
	Note      string `json:"note,omitempty" jsonschema:"how to read more"`
}

func (t *tools) readRange(in RangeIn) (RangeOut, error) {
	start, end := in.StartLine, in.EndLine
	if start <= 0 {
		start = 1
	}
	if end <= 0 {
		end = start + defaultRangeLines - 1
	}
	if end < start {
		return RangeOut{}, fmt.Errorf("endLineOneIndexedInclusive %d is before startLineOneIndexed %d", end, start)
	}
	note := ""
	if end-start+1 > maxRangeLines {
		end = start + maxRangeLines - 1
		note = fmt.Sprintf("at most %d lines per call", maxRangeLines)
	}
	file, info, err := t.svc.Files.OpenFile(in.TargetFile)
	if err != nil {
		return RangeOut{}, fmt.Errorf("%s: %w", in.TargetFile, err)
	}
	defer file.Close()
	if info.IsDir {
		return RangeOut{}, fmt.Errorf("%s is a folder; use codegenListDir", in.TargetFile)
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // a line over 1 MiB is an error, not a memory spike
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
		return RangeOut{}, fmt.Errorf("%s: %w", in.TargetFile, err)
	}
	out := RangeOut{Path: info.Path, StartLine: start, EndLine: last, Content: b.String()}
	if last == 0 {
		out.Note = fmt.Sprintf("the file has %d lines", n)
	} else if more {
		out.Note = strings.TrimPrefix(note+"; more lines follow: call again with startLineOneIndexed "+fmt.Sprint(last+1), "; ")
	}
	return out, nil
}
