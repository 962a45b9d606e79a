package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds a token to every request of the MCP client.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connectMCP(t *testing.T, d *daemon, token string) (*sdk.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	transport := &sdk.StreamableClientTransport{Endpoint: d.url + "/mcp", MaxRetries: -1}
	if token != "" {
		transport.HTTPClient = &http.Client{Transport: bearer{token}}
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "api-test", Version: "1"}, nil)
	sess, err := c.Connect(ctx, transport, nil)
	if err == nil {
		t.Cleanup(func() { sess.Close() })
	}
	return sess, err
}

func TestMCPOverDaemon(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	sess, err := connectMCP(t, d, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tools, err := sess.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) < 16 {
		t.Errorf("%d tools, want 16", len(tools.Tools))
	}
	if err := os.WriteFile(filepath.Join(d.workDir, "hello.txt"), []byte("hi from disk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: "fsReadFile", Arguments: map[string]any{"path": "hello.txt"}})
	if err != nil || res.IsError {
		t.Fatalf("fsReadFile: %v %+v", err, res)
	}
	if got := res.StructuredContent.(map[string]any)["content"]; got != "hi from disk\n" {
		t.Errorf("fsReadFile content = %q", got)
	}
	res, err = sess.CallTool(ctx, &sdk.CallToolParams{Name: "processExecute", Arguments: map[string]any{"command": "echo mcp", "name": "via-mcp", "waitForCompletion": true}})
	if err != nil || res.IsError {
		t.Fatalf("processExecute: %v %+v", err, res)
	}
	// The process is the daemon's own: the REST API sees it.
	if p := d.get("via-mcp"); p.Status != "completed" {
		t.Errorf("REST view of the MCP process = %+v", p)
	}
	// A tool error is a result, not a protocol failure.
	res, err = sess.CallTool(ctx, &sdk.CallToolParams{Name: "processGet", Arguments: map[string]any{"identifier": "nope"}})
	if err != nil || !res.IsError {
		t.Errorf("processGet of a missing process: err %v, result %+v", err, res)
	}
}

func TestMCPDisabled(t *testing.T) {
	for name, opts := range map[string]daemonOptions{
		"flag": {args: []string{"--mcp-disabled"}},
		"env":  {env: []string{"MCP_DISABLED=true"}},
	} {
		t.Run(name, func(t *testing.T) {
			d := startDaemon(t, opts)
			resp, body := d.do(http.MethodPost, "/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
				"Content-Type", "application/json", "Accept", "application/json, text/event-stream")
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST /mcp when disabled: %d %s, want 404", resp.StatusCode, body)
			}
		})
	}
}

func TestMCPRequiresToken(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--token", "secret"}})
	resp, body := d.do(http.MethodPost, "/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		"Content-Type", "application/json", "Accept", "application/json, text/event-stream")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /mcp without token: %d %s, want 401", resp.StatusCode, body)
	}
	if _, err := connectMCP(t, d, "wrong"); err == nil {
		t.Error("connect with a wrong token succeeded")
	}
	sess, err := connectMCP(t, d, "secret")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sess.CallTool(context.Background(), &sdk.CallToolParams{Name: "fsGetWorkingDirectory"})
	if err != nil || res.IsError {
		t.Fatalf("fsGetWorkingDirectory with token: %v %+v", err, res)
	}
	if !strings.Contains(res.StructuredContent.(map[string]any)["workingDirectory"].(string), "/") {
		t.Errorf("working directory = %v", res.StructuredContent)
	}
}
