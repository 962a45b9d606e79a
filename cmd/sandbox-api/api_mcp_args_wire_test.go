package main

// The real binary's MCP tools take the existing daemon's argument names,
// with null for an absent optional argument, and its initialize answer
// names the server as the existing daemon does.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestMCPInitializeNamesTheServer(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	req := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	resp, data := d.do(http.MethodPost, "/mcp", req, "Content-Type", "application/json", "Accept", "application/json, text/event-stream")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: %d %s", resp.StatusCode, data)
	}
	var body struct {
		Result struct {
			ServerInfo struct{ Name, Version string } `json:"serverInfo"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("initialize: %s: %v", data, err)
	}
	if body.Result.ServerInfo.Name != "Sandbox API Server" || body.Result.ServerInfo.Version == "" {
		t.Errorf("serverInfo = %+v, want the name Sandbox API Server and our version", body.Result.ServerInfo)
	}
}

func TestMCPExistingArgumentNamesOverDaemon(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	sess, err := connectMCP(t, d, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.workDir, "lines.txt"), []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each call as an agent tuned on the existing daemon makes it, and
	// what it must give.
	calls := []struct {
		tool string
		args map[string]any
		want string // in the structured answer
	}{
		{"codegenReadFileRange", map[string]any{"targetFile": "lines.txt", "startLineOneIndexed": 2, "endLineOneIndexedInclusive": 3}, `"2\ttwo\n3\tthree\n"`},
		{"codegenReadFileRange", map[string]any{"targetFile": "lines.txt", "startLineOneIndexed": nil, "endLineOneIndexedInclusive": nil}, `"1\tone\n2\ttwo\n3\tthree\n"`},
		{"fsWriteFile", map[string]any{"path": "pkg/a.go", "content": "package pkg // Marker\n", "permissions": "600", "isDirectory": nil}, "pkg/a.go"},
		{"fsWriteFile", map[string]any{"path": "pkg/sub", "content": nil, "permissions": nil, "isDirectory": true}, "pkg/sub"},
		{"fsWriteFile", map[string]any{"path": "pkg/a_test.go", "content": "package pkg // marker\n"}, "pkg/a_test.go"},
		{"codegenListDir", map[string]any{"relativeWorkspacePath": "pkg"}, `"sub/"`},
		{"codegenListDir", map[string]any{"relativeWorkspacePath": nil}, `"lines.txt"`},
		{"codegenGrepSearch", map[string]any{"query": "marker", "caseSensitive": nil, "includePattern": "*.go", "excludePattern": "*_test.go"}, `"pkg/a.go"`},
		{"codegenGrepSearch", map[string]any{"query": "marker", "caseSensitive": true, "includePattern": nil, "excludePattern": nil}, `"pkg/a_test.go"`},
		{"codegenFileSearch", map[string]any{"query": "atest", "directory": nil}, `"pkg/a_test.go"`},
		{"codegenFileSearch", map[string]any{"query": "lines", "directory": "."}, `"lines.txt"`},
		{"fsDeleteFileOrDirectory", map[string]any{"path": "pkg/sub", "isDirectory": true, "recursive": nil}, "pkg/sub"},
		{"processExecute", map[string]any{"command": "echo kept", "keepAlive": true, "waitForCompletion": true, "timeout": nil, "env": nil, "name": nil}, `"keepAlive":true`},
	}
	for _, c := range calls {
		res, err := sess.CallTool(context.Background(), &sdk.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s %v: %v", c.tool, c.args, err)
		}
		raw, _ := json.Marshal(res.StructuredContent)
		if res.IsError || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s %v: error %v, answer %s, want %s in it (content %+v)", c.tool, c.args, res.IsError, raw, c.want, res.Content)
		}
	}
	if fi, err := os.Stat(filepath.Join(d.workDir, "pkg/a.go")); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("pkg/a.go has mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(d.workDir, "pkg/sub")); !os.IsNotExist(err) {
		t.Errorf("pkg/sub not deleted: %v", err)
	}
}
