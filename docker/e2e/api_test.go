//go:build e2eimage

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// sandboxAPI talks to a container's daemon from outside, through the port
// docker published on the host: the path a user of the image takes.
type sandboxAPI struct {
	base string // http://127.0.0.1:PORT
	c    *http.Client
}

func newSandboxAPI(hostPort string) *sandboxAPI {
	return &sandboxAPI{base: "http://" + hostPort, c: &http.Client{Timeout: testsupport.HangGuard}}
}

// proc is a ProcessResponse as the checks read it.
type proc = testsupport.Proc

func (a *sandboxAPI) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// healthy is one /health probe: true on a 200.
func (a *sandboxAPI) healthy() bool {
	c := http.Client{Timeout: testsupport.HangGuard}
	resp, err := c.Get(a.base + "/health")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (a *sandboxAPI) process(name string) (proc, int, error) {
	code, b, err := a.do("GET", "/process/"+url.PathEscape(name), nil)
	var p proc
	if err == nil && code == http.StatusOK {
		err = json.Unmarshal(b, &p)
	}
	return p, code, err
}

func (a *sandboxAPI) list() ([]proc, error) {
	code, b, err := a.do("GET", "/process", nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /process: %d %s", code, b)
	}
	var ps []proc
	return ps, json.Unmarshal(b, &ps)
}

// logs is GET /process/{name}/logs: the whole interleaved output.
func (a *sandboxAPI) logs(name string) (string, error) {
	code, b, err := a.do("GET", "/process/"+url.PathEscape(name)+"/logs", nil)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET /process/%s/logs: %d %s", name, code, b)
	}
	var l struct {
		Logs string `json:"logs"`
	}
	return l.Logs, json.Unmarshal(b, &l)
}

// start is POST /process; the body is returned as is for error answers.
func (a *sandboxAPI) start(req map[string]any) (proc, int, []byte, error) {
	code, b, err := a.do("POST", "/process", req)
	var p proc
	if err == nil && code == http.StatusOK {
		err = json.Unmarshal(b, &p)
	}
	return p, code, b, err
}
