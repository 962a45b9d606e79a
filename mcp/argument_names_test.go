package mcp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The tools take the existing daemon's argument names, which agents have
// been tuned on; an optional argument sent as null counts as absent.

// existingArguments are the arguments of the existing daemon's tools, as
// agents send them; each must be a property of our schema (ours may have
// more).
var existingArguments = map[string][]string{
	"codegenReadFileRange":    {"targetFile", "startLineOneIndexed", "endLineOneIndexedInclusive"},
	"codegenListDir":          {"relativeWorkspacePath"},
	"codegenGrepSearch":       {"query", "caseSensitive", "includePattern", "excludePattern"},
	"codegenFileSearch":       {"query", "directory"},
	"fsWriteFile":             {"path", "content", "permissions", "isDirectory"},
	"fsDeleteFileOrDirectory": {"path", "isDirectory", "recursive"},
	"processExecute":          {"command", "keepAlive"},
}

func TestMCPSchemasHaveTheExistingArgumentsAndNullableOptionals(t *testing.T) {
	e := newEnv(t)
	res, err := e.sess.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tool := range res.Tools {
		seen[tool.Name] = true
		raw, _ := json.Marshal(tool.InputSchema)
		var sc struct {
			Properties map[string]struct {
				Type json.RawMessage `json:"type"`
			} `json:"properties"`
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(raw, &sc); err != nil {
			t.Fatalf("%s: schema %s: %v", tool.Name, raw, err)
		}
		for _, arg := range existingArguments[tool.Name] {
			if _, ok := sc.Properties[arg]; !ok {
				t.Errorf("%s: no argument %q in %s", tool.Name, arg, raw)
			}
		}
		for name, p := range sc.Properties {
			var types []string
			if json.Unmarshal(p.Type, &types) != nil {
				var one string
				_ = json.Unmarshal(p.Type, &one)
				types = []string{one}
			}
			nullable := slices.Contains(types, "null")
			if required := slices.Contains(sc.Required, name); nullable == required {
				t.Errorf("%s.%s: type %s, required %v: optional arguments, and only they, take null", tool.Name, name, p.Type, required)
			}
		}
	}
	for name := range existingArguments {
		if !seen[name] {
			t.Errorf("tool %s missing", name)
		}
	}
}

func TestMCPServerInfoName(t *testing.T) {
	e := newEnv(t)
	if got := e.sess.InitializeResult().ServerInfo.Name; got != "Sandbox API Server" {
		t.Errorf("serverInfo.name = %q, want the existing daemon's %q", got, "Sandbox API Server")
	}
}

func TestMCPFileToolsWithExistingArguments(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		args     map[string]any
		wantMode os.FileMode // 0: not checked
		wantDir  bool
		content  string
	}{
		{"file with permissions", map[string]any{"path": "a/x.sh", "content": "echo hi\n", "permissions": "755"}, 0o755, false, "echo hi\n"},
		{"file, nulls", map[string]any{"path": "a/n.txt", "content": "n", "permissions": nil, "isDirectory": nil}, 0o644, false, "n"},
		{"content absent", map[string]any{"path": "a/empty.txt"}, 0, false, ""},
		{"content null", map[string]any{"path": "a/null.txt", "content": nil}, 0, false, ""},
		{"folder", map[string]any{"path": "d/e", "isDirectory": true, "permissions": "0700"}, 0o700, true, ""},
		{"folder, null content", map[string]any{"path": "d/f", "isDirectory": true, "content": nil}, 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out PathOut
			e.mustCall(t, "fsWriteFile", tt.args, &out)
			fi, err := os.Stat(filepath.Join(e.dir, tt.args["path"].(string)))
			if err != nil || out.Path != filepath.Join(e.dir, tt.args["path"].(string)) {
				t.Fatalf("%+v: %v", out, err)
			}
			if fi.IsDir() != tt.wantDir || (tt.wantMode != 0 && fi.Mode().Perm() != tt.wantMode) {
				t.Errorf("dir %v mode %v, want dir %v mode %v", fi.IsDir(), fi.Mode().Perm(), tt.wantDir, tt.wantMode)
			}
			if !tt.wantDir {
				if b, _ := os.ReadFile(out.Path); string(b) != tt.content {
					t.Errorf("content %q, want %q", b, tt.content)
				}
			}
		})
	}
	e.wantError(t, "fsWriteFile", map[string]any{"path": "bad", "permissions": "rwx"}, "permissions")
	e.wantError(t, "fsWriteFile", map[string]any{"path": "d/g", "isDirectory": true, "content": "x"}, "content must be empty")

	// isDirectory is accepted either way; the path decides.
	for _, args := range []map[string]any{
		{"path": "a/x.sh", "isDirectory": false, "recursive": nil},
		{"path": "a/n.txt", "isDirectory": nil, "recursive": nil},
		{"path": "d/e", "isDirectory": true},
		{"path": "a", "isDirectory": true, "recursive": true},
	} {
		e.mustCall(t, "fsDeleteFileOrDirectory", args, nil)
		if _, err := os.Lstat(filepath.Join(e.dir, args["path"].(string))); !os.IsNotExist(err) {
			t.Errorf("%v: still there (%v)", args, err)
		}
	}
	e.wantError(t, "fsDeleteFileOrDirectory", map[string]any{"path": "d", "isDirectory": true, "recursive": nil}, "recursive")
}

func TestMCPCodeToolsWithExistingArguments(t *testing.T) {
	e := newEnv(t)
	for name, content := range map[string]string{
		"src/main.go":      "package main\n// Needle one\n",
		"src/main_test.go": "package main\n// Needle two\n",
		"src/lib/util.ts":  "// needle three\n",
		"notes.md":         "l1\nl2\nl3\n",
	} {
		p := filepath.Join(e.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	greps := []struct {
		name string
		args map[string]any
		want []string // paths of the matches
	}{
		{"all, nulls", map[string]any{"query": "needle", "caseSensitive": nil, "includePattern": nil, "excludePattern": nil}, []string{"src/main.go", "src/main_test.go", "src/lib/util.ts"}},
		{"case sensitive", map[string]any{"query": "Needle", "caseSensitive": true}, []string{"src/main.go", "src/main_test.go"}},
		{"include", map[string]any{"query": "needle", "includePattern": "*.go"}, []string{"src/main.go", "src/main_test.go"}},
		{"include several", map[string]any{"query": "needle", "includePattern": "*.ts, main.go"}, []string{"src/main.go", "src/lib/util.ts"}},
		{"exclude", map[string]any{"query": "needle", "excludePattern": "*_test.go"}, []string{"src/main.go", "src/lib/util.ts"}},
		{"exclude a path", map[string]any{"query": "needle", "excludePattern": "src/lib/*"}, []string{"src/main.go", "src/main_test.go"}},
		{"include and exclude", map[string]any{"query": "needle", "includePattern": "*.go", "excludePattern": "*_test.go"}, []string{"src/main.go"}},
		{"in a directory", map[string]any{"query": "needle", "directory": "src/lib"}, []string{"util.ts"}},
	}
	for _, tt := range greps {
		t.Run("grep "+tt.name, func(t *testing.T) {
			var g GrepOut
			e.mustCall(t, "codegenGrepSearch", tt.args, &g)
			var got []string
			for _, m := range g.Matches {
				got = append(got, m.Path)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("matches %v, want %v", got, want)
			}
		})
	}
	e.wantError(t, "codegenGrepSearch", map[string]any{"query": "x", "excludePattern": "["}, "excludePattern")

	var rg RangeOut
	e.mustCall(t, "codegenReadFileRange", map[string]any{"targetFile": "notes.md", "startLineOneIndexed": 2, "endLineOneIndexedInclusive": 2}, &rg)
	if rg.Content != "2\tl2\n" {
		t.Errorf("range 2..2 = %+v", rg)
	}
	e.mustCall(t, "codegenReadFileRange", map[string]any{"targetFile": "notes.md", "startLineOneIndexed": nil, "endLineOneIndexedInclusive": nil}, &rg)
	if rg.Content != "1\tl1\n2\tl2\n3\tl3\n" {
		t.Errorf("range with nulls = %+v", rg)
	}

	var ld ListDirRecOut
	e.mustCall(t, "codegenListDir", map[string]any{"relativeWorkspacePath": "src"}, &ld)
	if !slices.Contains(ld.Entries, "lib/") || !slices.Contains(ld.Entries, "main.go") || ld.Path != filepath.Join(e.dir, "src") {
		t.Errorf("codegenListDir src = %+v", ld)
	}
	e.mustCall(t, "codegenListDir", map[string]any{"relativeWorkspacePath": nil}, &ld)
	if !slices.Contains(ld.Entries, "notes.md") {
		t.Errorf("codegenListDir null = %+v", ld)
	}

	var fsOut FileSearchOut
	e.mustCall(t, "codegenFileSearch", map[string]any{"query": "util", "directory": nil}, &fsOut)
	if len(fsOut.Files) == 0 || fsOut.Files[0] != "src/lib/util.ts" {
		t.Errorf("codegenFileSearch = %+v", fsOut)
	}
}

func TestMCPProcessExecuteKeepAlive(t *testing.T) {
	e := newEnv(t)
	var p ProcessInfo
	e.mustCall(t, "processExecute", map[string]any{"command": "sleep 600", "name": "server", "keepAlive": true, "timeout": 1,
		"env": nil, "workingDir": nil, "waitForPorts": nil, "waitForCompletion": nil}, &p)
	if !p.KeepAlive || p.Status != "running" {
		t.Fatalf("processExecute = %+v", p)
	}
	// The timeout is a keepAlive process's lifetime: the process ends
	// killed once it runs out.
	testsupport.Until(t, "the keepAlive process to end after its timeout", func() bool {
		e.mustCall(t, "processGet", map[string]any{"identifier": "server"}, &p)
		return p.Status != "running"
	})
	if p.Status != "killed" {
		t.Errorf("after its lifetime: %+v", p)
	}
	// Without keepAlive the timeout never kills.
	e.wantError(t, "processExecute", map[string]any{"command": "sleep 600", "name": "plain", "keepAlive": nil, "timeout": 1, "waitForCompletion": true}, "still running")
	e.mustCall(t, "processGet", map[string]any{"identifier": "plain"}, &p)
	if p.KeepAlive || p.Status != "running" {
		t.Errorf("without keepAlive: %+v", p)
	}
	e.mustCall(t, "processKill", map[string]any{"identifier": "plain"}, nil)
	if !strings.Contains(e.call(t, "processExecute", map[string]any{"command": "true", "timeout": -1}, nil), "negative") {
		t.Error("a negative timeout was accepted")
	}
}
