// Package mcp serves the sandbox as Model Context Protocol tools: processes
// and files, called directly on the process and filesystem packages.
package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/process"
)

// Output bounds: longer logs and files are cut with a note.
const (
	MaxLogBytes  = 64 << 10
	MaxReadBytes = 256 << 10
	maxEditBytes = 16 << 20
)

// Services are the domain objects the tools call.
type Services struct {
	Processes *process.Manager
	Files     *filesystem.FS
	Version   string
}

// Handler returns the streamable HTTP handler (stateless, JSON replies).
// The SDK's DNS-rebinding guard is off: the platform's proxy may reach the
// daemon on a loopback address with the sandbox's public Host, and /mcp is
// guarded like every other route (the optional token), no more, no less.
func Handler(svc Services) http.Handler {
	s := NewServer(svc)
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: true})
}

// NewServer returns an MCP server with every tool registered.
func NewServer(svc Services) *sdk.Server {
	v := svc.Version
	if v == "" {
		v = "dev"
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "sandbox-api", Version: v}, nil)
	t := &tools{svc: svc}
	t.registerProcess(s)
	t.registerFiles(s)
	t.registerCodegen(s)
	return s
}

type tools struct{ svc Services }

// ---- processes ----

// ProcessInfo is a process as the tools report it.
type ProcessInfo struct {
	PID          string `json:"pid" jsonschema:"process id, usable as identifier"`
	Name         string `json:"name" jsonschema:"process name, usable as identifier"`
	Command      string `json:"command" jsonschema:"the shell command"`
	WorkingDir   string `json:"workingDir" jsonschema:"working directory"`
	Status       string `json:"status" jsonschema:"running, completed, failed, stopped or killed"`
	ExitCode     int    `json:"exitCode" jsonschema:"exit code (-1 when stopped or ended by a signal)"`
	StartedAt    string `json:"startedAt" jsonschema:"start time, RFC 3339"`
	CompletedAt  string `json:"completedAt,omitempty" jsonschema:"end time, RFC 3339; empty while running"`
	RestartCount int    `json:"restartCount" jsonschema:"restarts so far"`
	Logs         string `json:"logs,omitempty" jsonschema:"output (stdout and stderr interleaved), when waited for"`
	Note         string `json:"note,omitempty" jsonschema:"a remark, e.g. that the logs were cut"`
}

func infoOf(p *process.Process) ProcessInfo {
	i := p.Info()
	out := ProcessInfo{PID: i.PID, Name: i.Name, Command: i.Command, WorkingDir: i.WorkingDir,
		Status: string(i.Status), ExitCode: i.ExitCode, StartedAt: i.StartedAt.Format(time.RFC3339Nano),
		RestartCount: i.RestartCount}
	if !i.CompletedAt.IsZero() {
		out.CompletedAt = i.CompletedAt.Format(time.RFC3339Nano)
	}
	return out
}

func tailLogs(p *process.Process, s process.Stream, identifier string) (string, string, error) {
	b, cut, err := p.Log().Tail(s, MaxLogBytes)
	if err != nil {
		return "", "", err
	}
	note := ""
	if cut {
		note = fmt.Sprintf("output cut to its last %d bytes; the full log is at GET /process/%s/logs/stream", MaxLogBytes, identifier)
	}
	return string(b), note, nil
}

type ListProcessesOut struct {
	Processes []ProcessInfo `json:"processes" jsonschema:"all known processes"`
}

type IdentifierIn struct {
	Identifier string `json:"identifier" jsonschema:"process name or pid"`
}

type ExecuteIn struct {
	Command           string            `json:"command" jsonschema:"shell command to run"`
	Name              string            `json:"name,omitempty" jsonschema:"unique name for the process (default: generated)"`
	WorkingDir        string            `json:"workingDir,omitempty" jsonschema:"working directory (default: the sandbox working directory)"`
	Env               map[string]string `json:"env,omitempty" jsonschema:"environment variables added to the daemon's"`
	WaitForCompletion bool              `json:"waitForCompletion,omitempty" jsonschema:"wait for the process to end and return its output"`
	Timeout           int               `json:"timeout,omitempty" jsonschema:"seconds to wait for completion or ports (default 60)"`
	WaitForPorts      []int             `json:"waitForPorts,omitempty" jsonschema:"TCP ports to wait for until they listen"`
	RestartOnFailure  bool              `json:"restartOnFailure,omitempty" jsonschema:"restart the process when it exits with an error"`
	MaxRestarts       int               `json:"maxRestarts,omitempty" jsonschema:"restart limit with restartOnFailure (0: the default)"`
}

type LogsOut struct {
	Logs   string `json:"logs" jsonschema:"stdout and stderr interleaved"`
	Stdout string `json:"stdout" jsonschema:"stdout only"`
	Stderr string `json:"stderr" jsonschema:"stderr only"`
	Note   string `json:"note,omitempty" jsonschema:"a remark, e.g. that the logs were cut"`
}

func (t *tools) registerProcess(s *sdk.Server) {
	m := t.svc.Processes
	sdk.AddTool(s, &sdk.Tool{Name: "processesList", Description: "List every process started in the sandbox, running or ended, with status and exit code."},
		func(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, ListProcessesOut, error) {
			out := ListProcessesOut{Processes: []ProcessInfo{}}
			for _, p := range m.List() {
				out.Processes = append(out.Processes, infoOf(p))
			}
			return nil, out, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "processExecute", Description: "Run a shell command in the sandbox. With waitForCompletion the reply holds its exit code and output; otherwise it keeps running in the background (read it with processGetLogs). waitForPorts waits until the given ports listen (for servers)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in ExecuteIn) (*sdk.CallToolResult, ProcessInfo, error) {
			if strings.TrimSpace(in.Command) == "" {
				return nil, ProcessInfo{}, errors.New("command is required")
			}
			spec := process.Spec{Command: in.Command, Name: in.Name, WorkingDir: in.WorkingDir, Env: in.Env,
				RestartOnFailure: in.RestartOnFailure, MaxRestarts: in.MaxRestarts}
			if in.WaitForPorts != nil {
				if err := process.ValidatePorts(in.WaitForPorts); err != nil {
					return nil, ProcessInfo{}, err
				}
			}
			timeout := 60 * time.Second
			if in.Timeout > 0 {
				var err error
				if timeout, err = process.TimeoutSeconds(in.Timeout); err != nil {
					return nil, ProcessInfo{}, err
				}
			}
			p, err := m.Start(spec)
			if err != nil {
				return nil, ProcessInfo{}, err
			}
			if len(in.WaitForPorts) > 0 {
				if err := p.WaitForPorts(ctx, in.WaitForPorts, timeout); err != nil {
					return nil, ProcessInfo{}, fmt.Errorf("process %s: %w", p.Name(), err)
				}
			}
			if in.WaitForCompletion {
				if err := p.Wait(ctx, timeout); err != nil {
					return nil, ProcessInfo{}, fmt.Errorf("process %s still running (%w); read it with processGetLogs or stop it with processStop", p.Name(), err)
				}
				out := infoOf(p)
				out.Logs, out.Note, err = tailLogs(p, process.Both, p.Name())
				return nil, out, err
			}
			return nil, infoOf(p), nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "processGet", Description: "Get the status, exit code and times of a process by name or pid."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "processGetLogs", Description: fmt.Sprintf("Get the output of a process by name or pid (the last %d bytes of each stream).", MaxLogBytes)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, LogsOut, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, LogsOut{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			var out LogsOut
			var n1, n2, n3 string
			if out.Logs, n1, err = tailLogs(p, process.Both, in.Identifier); err != nil {
				return nil, LogsOut{}, err
			}
			if out.Stdout, n2, err = tailLogs(p, process.Stdout, in.Identifier); err != nil {
				return nil, LogsOut{}, err
			}
			if out.Stderr, n3, err = tailLogs(p, process.Stderr, in.Identifier); err != nil {
				return nil, LogsOut{}, err
			}
			out.Note = firstNonEmpty(n1, n2, n3)
			return nil, out, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "processStop", Description: "Stop a running process gracefully (SIGTERM, then SIGKILL after a grace period)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			if err := p.Stop(ctx); err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "processKill", Description: "Kill a running process immediately (SIGKILL)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			if err := p.Kill(ctx, syscall.SIGKILL); err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ---- files ----

type PathIn struct {
	Path string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
}

type WorkingDirOut struct {
	WorkingDirectory string `json:"workingDirectory" jsonschema:"the sandbox working directory"`
}

type Entry struct {
	Path        string `json:"path" jsonschema:"absolute path"`
	Name        string `json:"name" jsonschema:"base name"`
	IsDir       bool   `json:"isDir" jsonschema:"true for a folder"`
	Size        int64  `json:"size" jsonschema:"size in bytes"`
	Permissions string `json:"permissions" jsonschema:"mode, like rwxr-xr-x"`
	ModTime     string `json:"modTime" jsonschema:"last change, RFC 3339"`
}

type ListDirOut struct {
	Path    string  `json:"path" jsonschema:"the folder"`
	Entries []Entry `json:"entries" jsonschema:"its files and subfolders"`
}

type ReadFileIn struct {
	Path   string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	Offset int64  `json:"offset,omitempty" jsonschema:"byte offset to start reading at (to read the rest of a cut file)"`
}

type ReadFileOut struct {
	Path      string `json:"path" jsonschema:"the file"`
	Content   string `json:"content" jsonschema:"its content"`
	Size      int64  `json:"size" jsonschema:"file size in bytes"`
	Truncated bool   `json:"truncated" jsonschema:"true when content is not the whole rest of the file"`
	Note      string `json:"note,omitempty" jsonschema:"how to read the rest"`
}

type WriteFileIn struct {
	Path    string `json:"path" jsonschema:"absolute path, or relative to the working directory; parents are created"`
	Content string `json:"content" jsonschema:"the new content of the file"`
}

type PathOut struct {
	Path string `json:"path" jsonschema:"absolute path"`
}

type EditFileIn struct {
	Path       string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	OldString  string `json:"oldString" jsonschema:"exact text to replace; must occur once unless replaceAll"`
	NewString  string `json:"newString" jsonschema:"replacement text"`
	ReplaceAll bool   `json:"replaceAll,omitempty" jsonschema:"replace every occurrence"`
}

type EditFileOut struct {
	Path                string `json:"path" jsonschema:"absolute path"`
	OccurrencesReplaced int    `json:"occurrencesReplaced" jsonschema:"how many occurrences were replaced"`
}

type DeleteIn struct {
	Path      string `json:"path" jsonschema:"absolute path, or relative to the working directory"`
	Recursive bool   `json:"recursive,omitempty" jsonschema:"delete a non-empty folder with its content"`
}

func entryOf(i filesystem.FileInfo) Entry {
	return Entry{Path: i.Path, Name: i.Name, IsDir: i.IsDir, Size: i.Size, Permissions: i.Permissions(),
		ModTime: i.ModTime.Format(time.RFC3339Nano)}
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
			return ReadFileOut{}, err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return ReadFileOut{}, err
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

func (t *tools) registerFiles(s *sdk.Server) {
	f := t.svc.Files
	sdk.AddTool(s, &sdk.Tool{Name: "fsGetWorkingDirectory", Description: "Get the sandbox working directory, against which relative paths are resolved."},
		func(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, WorkingDirOut, error) {
			return nil, WorkingDirOut{WorkingDirectory: f.WorkingDir()}, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fsListDirectory", Description: "List the files and subfolders of a folder."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in PathIn) (*sdk.CallToolResult, ListDirOut, error) {
			d, err := f.List(in.Path)
			if err != nil {
				return nil, ListDirOut{}, fmt.Errorf("%s: %w", in.Path, err)
			}
			out := ListDirOut{Path: d.Path, Entries: []Entry{}}
			for _, sub := range d.Subdirectories {
				out.Entries = append(out.Entries, Entry{Path: sub.Path, Name: sub.Name, IsDir: true})
			}
			for _, fi := range d.Files {
				out.Entries = append(out.Entries, entryOf(fi))
			}
			return nil, out, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fsReadFile", Description: fmt.Sprintf("Read a text file. At most %d bytes are returned per call; a longer file is cut with a note giving the offset to continue from.", MaxReadBytes)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in ReadFileIn) (*sdk.CallToolResult, ReadFileOut, error) {
			out, err := t.readFile(in.Path, in.Offset, MaxReadBytes)
			return nil, out, err
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fsWriteFile", Description: "Create or overwrite a file with the given content; missing parent folders are created."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in WriteFileIn) (*sdk.CallToolResult, PathOut, error) {
			abs, err := f.WriteFile(in.Path, strings.NewReader(in.Content), nil)
			if err != nil {
				return nil, PathOut{}, fmt.Errorf("%s: %w", in.Path, err)
			}
			return nil, PathOut{Path: abs}, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fsEditFile", Description: "Replace exact text in a file. oldString must occur exactly once unless replaceAll is set; read the file first to copy the text exactly, including white space."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in EditFileIn) (*sdk.CallToolResult, EditFileOut, error) {
			out, err := t.editFile(in)
			return nil, out, err
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fsDeleteFileOrDirectory", Description: "Delete a file or folder; a non-empty folder needs recursive."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in DeleteIn) (*sdk.CallToolResult, PathOut, error) {
			abs, _, err := f.Remove(in.Path, in.Recursive)
			if err != nil {
				if errors.Is(err, filesystem.ErrNotEmpty) {
					return nil, PathOut{}, fmt.Errorf("%s: %w; set recursive to delete it with its content", in.Path, err)
				}
				return nil, PathOut{}, fmt.Errorf("%s: %w", in.Path, err)
			}
			return nil, PathOut{Path: abs}, nil
		})
}

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
		return EditFileOut{}, err
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
