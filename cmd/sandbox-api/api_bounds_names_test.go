package main

// Black-box tests of the bound on process names (issue 12): at most 255
// bytes of UTF-8 without "/" or control characters, over HTTP and MCP.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestProcessNameBounds(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	nameJSON := func(name string) string {
		b, _ := json.Marshal(name)
		return string(b)
	}
	cases := []struct {
		what string
		name string // JSON text of the name, as sent
		want int
	}{
		{"255 bytes", nameJSON(strings.Repeat("n", 255)), http.StatusOK},
		{"255 bytes of two-byte characters and one", nameJSON(strings.Repeat("é", 127) + "n"), http.StatusOK},
		{"unicode and spaces", nameJSON("dev server: été"), http.StatusOK},
		{"256 bytes", nameJSON(strings.Repeat("n", 256)), http.StatusBadRequest},
		{"256 bytes of two-byte characters", nameJSON(strings.Repeat("é", 128)), http.StatusBadRequest},
		{"1 MB (under the 1 MiB body limit)", nameJSON(strings.Repeat("n", 1_000_000)), http.StatusBadRequest},
		{"invalid UTF-8", "\"bad\xff\xfename\"", http.StatusBadRequest},
		{"a lone surrogate", `"bad\ud800name"`, http.StatusBadRequest},
		{"a slash", nameJSON("a/b"), http.StatusBadRequest},
		{"dot dot slash", nameJSON("../x"), http.StatusBadRequest},
		{"a newline", nameJSON("a\nb"), http.StatusBadRequest},
		{"an escape sequence", nameJSON("\x1b[31mred"), http.StatusBadRequest},
		{"a NUL", nameJSON("a\x00b"), http.StatusBadRequest},
		{"DEL", nameJSON("a\x7f"), http.StatusBadRequest},
		{"a C1 control", nameJSON("a\u0085b"), http.StatusBadRequest},
	}
	accepted := 0
	for _, c := range cases {
		body := `{"command": "true", "name": ` + c.name + `}`
		resp, data := d.do(http.MethodPost, "/process", body, "Content-Type", "application/json")
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d; body %s", c.what, resp.StatusCode, c.want, testsupport.Truncate(data))
			continue
		}
		if c.want == http.StatusOK {
			accepted++
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal(data, &e); err != nil || !strings.HasPrefix(e.Error, "invalid request body: name ") {
			t.Errorf("%s: error %q (%v), want one starting with %q", c.what, e.Error, err, "invalid request body: name ")
		}
		if len(data) > 1024 {
			t.Errorf("%s: the error answer is %d bytes: it must not echo a long name", c.what, len(data))
		}
	}
	var list []proc
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	if len(list) != accepted {
		t.Errorf("%d processes listed, want the %d accepted: a refused name must start nothing", len(list), accepted)
	}

	// MCP starts processes through the same domain rule.
	sess, err := connectMCP(t, d, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{strings.Repeat("m", 256), "a/b", "a\nb"} {
		res, err := sess.CallTool(context.Background(), &sdk.CallToolParams{Name: "processExecute",
			Arguments: map[string]any{"command": "true", "name": name}})
		if err != nil || !res.IsError {
			t.Errorf("MCP processExecute with name %.20q: err %v, result %+v; want a tool error", name, err, res)
			continue
		}
		if text := res.Content[0].(*sdk.TextContent).Text; !strings.Contains(text, "name ") {
			t.Errorf("MCP processExecute with name %.20q: %q does not say the name is wrong", name, text)
		}
	}
	d.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	if len(list) != accepted {
		t.Errorf("%d processes listed after the MCP calls, want %d", len(list), accepted)
	}
}
