package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// MaxReadBytes bounds what fsReadFile returns per call (and the lines
// codegenReadFileRange gathers): about 64k tokens, a good part of an
// agent's context but not all of it. Longer files are read in pieces.
const MaxReadBytes = 256 << 10

// PathIn names one file or folder.
type PathIn struct {
	Path string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
}

// WorkingDirOut is fsGetWorkingDirectory's answer.
type WorkingDirOut struct {
	WorkingDirectory string `json:"workingDirectory" jsonschema:"the sandbox working directory"`
}

// Entry is one file or folder of a listing.
type Entry struct {
	Path        string `json:"path" jsonschema:"absolute path"`
	Name        string `json:"name" jsonschema:"base name"`
	IsDir       bool   `json:"isDir" jsonschema:"true for a folder"`
	Size        int64  `json:"size" jsonschema:"size in bytes"`
	Permissions string `json:"permissions" jsonschema:"mode, like rwxr-xr-x"`
	ModTime     string `json:"modTime" jsonschema:"last change, RFC 3339"`
}

// ListDirOut is fsListDirectory's answer.
type ListDirOut struct {
	Path    string  `json:"path" jsonschema:"the folder"`
	Entries []Entry `json:"entries" jsonschema:"its files and subfolders"`
}

// ReadFileIn are fsReadFile's arguments.
type ReadFileIn struct {
	Path   string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	Offset int64  `json:"offset,omitempty" jsonschema:"byte offset to start reading at (to read the rest of a cut file)"`
}

// ReadFileOut is fsReadFile's answer.
type ReadFileOut struct {
	Path      string `json:"path" jsonschema:"the file"`
	Content   string `json:"content" jsonschema:"its content"`
	Size      int64  `json:"size" jsonschema:"file size in bytes"`
	Truncated bool   `json:"truncated" jsonschema:"true when content is not the whole rest of the file"`
	Note      string `json:"note,omitempty" jsonschema:"how to read the rest"`
}

// WriteFileIn are fsWriteFile's arguments, the existing daemon's.
type WriteFileIn struct {
	Path        string `json:"path" jsonschema:"absolute path, or relative to the working directory; missing parent folders are created"`
	Content     string `json:"content,omitempty" jsonschema:"the new content of the file (default: empty)"`
	Permissions string `json:"permissions,omitempty" jsonschema:"octal mode such as 644 or 0755 (default: the mode of the file replaced, 644 for a new file, 755 less the umask for a folder)"`
	IsDirectory bool   `json:"isDirectory,omitempty" jsonschema:"create a folder (with its parents) instead of a file; content must then be empty"`
}

// PathOut names the file or folder a tool acted on.
type PathOut struct {
	Path string `json:"path" jsonschema:"absolute path"`
}

// EditFileIn are fsEditFile's arguments.
type EditFileIn struct {
	Path       string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	OldString  string `json:"oldString" jsonschema:"exact text to replace; must occur once unless replaceAll"`
	NewString  string `json:"newString" jsonschema:"replacement text"`
	ReplaceAll bool   `json:"replaceAll,omitempty" jsonschema:"replace every occurrence"`
}

// EditFileOut is fsEditFile's answer.
type EditFileOut struct {
	Path                string `json:"path" jsonschema:"absolute path"`
	OccurrencesReplaced int    `json:"occurrencesReplaced" jsonschema:"how many occurrences were replaced"`
}

// DeleteIn are fsDeleteFileOrDirectory's arguments, the existing daemon's.
type DeleteIn struct {
	Path        string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	IsDirectory bool   `json:"isDirectory,omitempty" jsonschema:"accepted for clients of the existing API; what is at path decides how it is deleted"`
	Recursive   bool   `json:"recursive,omitempty" jsonschema:"delete a non-empty folder with its content"`
}

func entryOf(i filesystem.FileInfo) Entry {
	return Entry{Path: i.Path, Name: i.Name, IsDir: i.IsDir, Size: i.Size, Permissions: i.Permissions(),
		ModTime: i.ModTime.Format(time.RFC3339Nano)}
}

func (t *tools) fileTools() []tool {
	f := t.svc.Files
	return []tool{
		newTool("fsGetWorkingDirectory", "Get the sandbox working directory, against which relative paths are resolved.",
			func(ctx context.Context, _ struct{}) (WorkingDirOut, error) {
				return WorkingDirOut{WorkingDirectory: f.WorkingDir()}, nil
			}),
		newTool("fsListDirectory", "List the files and subfolders of a folder.",
			func(ctx context.Context, in PathIn) (ListDirOut, error) {
				release, err := f.WaitHeavyRead(ctx) // a folder may hold millions of entries
				if err != nil {
					return ListDirOut{}, err
				}
				defer release()
				d, err := f.List(in.Path)
				if err != nil {
					return ListDirOut{}, fmt.Errorf("%s: %w", in.Path, err)
				}
				out := ListDirOut{Path: d.Path, Entries: []Entry{}}
				for _, sub := range d.Subdirectories {
					out.Entries = append(out.Entries, Entry{Path: sub.Path, Name: sub.Name, IsDir: true})
				}
				for _, fi := range d.Files {
					out.Entries = append(out.Entries, entryOf(fi))
				}
				return out, nil
			}),
		newTool("fsReadFile", fmt.Sprintf("Read a text file. At most %d bytes are returned per call; a longer file is cut with a note giving the offset to continue from.", MaxReadBytes),
			func(ctx context.Context, in ReadFileIn) (ReadFileOut, error) {
				return t.readFile(in.Path, in.Offset, MaxReadBytes)
			}),
		newTool("fsWriteFile", "Create or overwrite a file with the given content, or create a folder with isDirectory; missing parent folders are created.",
			func(ctx context.Context, in WriteFileIn) (PathOut, error) {
				abs, err := t.writeFile(in)
				return PathOut{Path: abs}, err
			}),
		newTool("fsEditFile", "Replace exact text in a file. oldString must occur exactly once unless replaceAll is set; read the file first to copy the text exactly, including white space.",
			func(ctx context.Context, in EditFileIn) (EditFileOut, error) {
				release, err := f.WaitHeavyRead(ctx) // the file is edited in memory, up to maxEditBytes
				if err != nil {
					return EditFileOut{}, err
				}
				defer release()
				return t.editFile(in)
			}),
		newTool("fsDeleteFileOrDirectory", "Delete a file or folder; a non-empty folder needs recursive.",
			func(ctx context.Context, in DeleteIn) (PathOut, error) {
				abs, _, err := f.Remove(in.Path, in.Recursive)
				if err != nil {
					if errors.Is(err, filesystem.ErrNotEmpty) {
						return PathOut{}, fmt.Errorf("%s: %w; set recursive to delete it with its content", in.Path, err)
					}
					return PathOut{}, fmt.Errorf("%s: %w", in.Path, err)
				}
				return PathOut{Path: abs}, nil
			}),
	}
}

func (t *tools) readFile(path string, offset, limit int64) (ReadFileOut, error) {
	f, info, err := t.svc.Files.OpenFile(path)
	if err != nil {
		return ReadFileOut{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if info.IsDir {
		return ReadFileOut{}, fmt.Errorf("%s is a folder; use fsListDirectory", path)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return ReadFileOut{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return ReadFileOut{}, fmt.Errorf("%s: %w", path, err)
	}
	out := ReadFileOut{Path: info.Path, Size: info.Size}
	if int64(len(b)) > limit {
		b = b[:limit]
		out.Truncated = true
		out.Note = fmt.Sprintf("content cut after %d bytes; call fsReadFile again with offset %d, or codegenReadFileRange for lines", limit, offset+limit)
	}
	out.Content = string(b)
	return out, nil
}

// writeFile writes a file, or creates a folder with isDirectory.
func (t *tools) writeFile(in WriteFileIn) (string, error) {
	var mode *fs.FileMode
	if in.Permissions != "" {
		m, err := filesystem.ParsePermissions(in.Permissions)
		if err != nil {
			return "", err
		}
		mode = &m
	}
	if in.IsDirectory {
		if in.Content != "" {
			return "", fmt.Errorf("%s: isDirectory is set, so content must be empty", in.Path)
		}
		abs, err := t.svc.Files.Mkdir(in.Path, mode)
		if err != nil {
			return "", fmt.Errorf("%s: %w", in.Path, err)
		}
		return abs, nil
	}
	abs, err := t.svc.Files.WriteFile(in.Path, strings.NewReader(in.Content), mode)
	if err != nil {
		return "", fmt.Errorf("%s: %w", in.Path, err)
	}
	return abs, nil
}
