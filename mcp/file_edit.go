package mcp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// maxEditBytes bounds the file fsEditFile reads whole into memory to edit.
const maxEditBytes = 16 << 20

// editFile replaces oldString by newString, once unless replaceAll, and
// keeps the file's mode. Every way the edit cannot be what the agent meant
// is an error that says what to do instead.
func (t *tools) editFile(in EditFileIn) (EditFileOut, error) {
	if in.OldString == "" {
		return EditFileOut{}, errors.New("oldString is empty; use fsWriteFile to create or overwrite a file")
	}
	if in.OldString == in.NewString {
		return EditFileOut{}, errors.New("oldString and newString are identical; nothing to change")
	}
	file, info, err := t.svc.Files.OpenFile(in.Path)
	if err != nil {
		return EditFileOut{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	if info.IsDir {
		file.Close()
		return EditFileOut{}, fmt.Errorf("%s is a folder", in.Path)
	}
	b, err := io.ReadAll(io.LimitReader(file, maxEditBytes+1))
	file.Close()
	if err != nil {
		return EditFileOut{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	if len(b) > maxEditBytes {
		return EditFileOut{}, fmt.Errorf("%s is larger than %d bytes; edit it with a command instead", in.Path, maxEditBytes)
	}
	content := string(b)
	n := strings.Count(content, in.OldString)
	switch {
	case n == 0:
		return EditFileOut{}, fmt.Errorf("oldString not found in %s; read the file and copy the text exactly", in.Path)
	case n > 1 && !in.ReplaceAll:
		return EditFileOut{}, fmt.Errorf("oldString occurs %d times in %s; add surrounding text to make it unique, or set replaceAll", n, in.Path)
	}
	if !in.ReplaceAll {
		n = 1
	}
	content = strings.Replace(content, in.OldString, in.NewString, n)
	mode := info.Mode & fs.ModePerm
	abs, err := t.svc.Files.WriteFile(info.Path, strings.NewReader(content), &mode)
	if err != nil {
		return EditFileOut{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	return EditFileOut{Path: abs, OccurrencesReplaced: n}, nil
}
