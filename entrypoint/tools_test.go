package entrypoint

// Each HTTP tool the script can use (curl, wget, nc), alone on PATH: it
// checks /health, starts commands with the token the daemon requires
// (ignoring any proxy), and reports a start the API refuses, then goes on.

import (
	"net/http"
	"strings"
	"testing"
)

type toolCase struct {
	name string // what is on PATH
	tool string // what the script reports it checked with
	// links makes the PATH; nil: basic tools only (busybox sh then falls
	// back on its own applets).
	links func(t *testing.T) map[string]string
	// refusal is what the report of a refused start must contain.
	refusal string
}

const (
	apiRefusal = `{"error":"a running process already has this name: \"job\""}`
	nameTaken  = "HTTP 400: " + apiRefusal
)

func curlCase() toolCase {
	return toolCase{"curl", "curl", func(t *testing.T) map[string]string {
		return withTool(t, "curl", needTool(t, "curl"))
	}, nameTaken}
}

// busybox's wget cannot show the body of an error answer, only its status.
func busyboxWgetCase() toolCase {
	return toolCase{"busybox-wget", "wget", func(t *testing.T) map[string]string {
		return withTool(t, "wget", needTool(t, "busybox"))
	}, "HTTP/1.1 400 Bad Request"}
}

func busyboxNcCase() toolCase {
	return toolCase{"busybox-nc", "nc", func(t *testing.T) map[string]string {
		return withTool(t, "nc", needTool(t, "busybox"))
	}, nameTaken}
}

// With busybox's wget and nc (an Alpine image), nc is preferred: it shows
// the API's error.
func busyboxWgetAndNcCase() toolCase {
	return toolCase{"busybox-wget-and-nc", "nc", func(t *testing.T) map[string]string {
		links := withTool(t, "nc", needTool(t, "busybox"))
		links["wget"] = links["nc"]
		return links
	}, nameTaken}
}

// GNU wget, as a Debian image with wget but no curl has: it goes before nc.
func gnuWgetCase() toolCase {
	return toolCase{"gnu-wget-and-nc", "gnu-wget", func(t *testing.T) map[string]string {
		path := needTool(t, "wget")
		if !isGNUWget(path) {
			t.Skip("wget is not GNU wget")
		}
		links := withTool(t, "wget", path)
		links["nc"] = needTool(t, "busybox") // GNU wget goes before nc
		return links
	}, apiRefusal}
}

func TestHTTPTools(t *testing.T) {
	all := []toolCase{curlCase(), gnuWgetCase(), busyboxNcCase(), busyboxWgetCase(), busyboxWgetAndNcCase()}
	cases := map[string][]toolCase{
		"dash": all,
		"bash": all,
		// busybox sh finds its own applets whatever PATH says: with no curl
		// it uses its nc, as an Alpine image would.
		"busybox": {curlCase(), {"applets", "nc", nil, nameTaken}},
	}
	for _, s := range shells {
		for _, c := range cases[s.name] {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				sh := needShell(t, s)
				links := basicTools(t)
				if c.links != nil {
					links = c.links(t)
				}
				checkTool(t, sh, binDir(t, links), c)
			})
		}
	}
}

func checkTool(t *testing.T, sh []string, path string, c toolCase) {
	r := start(t, options{
		shell: sh,
		path:  path,
		env: map[string]string{
			"SANDBOX_API_TOKEN": "s3cret",
			// A proxy that refuses everything: 127.0.0.1 must not go there.
			"http_proxy":      "http://127.0.0.1:9",
			"HTTP_PROXY":      "http://127.0.0.1:9",
			"SANDBOX_STARTUP": "job: sleep 30\njob: sleep 31\nafter: echo after",
		},
		args: []string{"echo", "main"},
	})
	r.waitStderr("(checked with " + c.tool + ")\n")
	// The refused start is reported with the API's answer...
	r.waitStderr("entrypoint: error: could not start job (sleep 31): ")
	if !containsLine(r.stderr.String(), "entrypoint: error: could not start job (sleep 31): ", c.refusal) {
		t.Errorf("the refusal report lacks %q", c.refusal)
	}
	// ...and the entrypoint goes on.
	r.ended("after")
	if got := r.stdout("after"); got != "after\n" {
		t.Errorf("after: stdout %q", got)
	}
	r.ended("main")
	if got := r.stdout("main"); got != "main\n" {
		t.Errorf("main: stdout %q", got)
	}
	if list := r.processes(); len(list) != 3 || list[0].Name != "job" || list[0].Command != "sleep 30" || list[0].Status != "running" {
		t.Errorf("processes: %+v, want the first job running, after, main", list)
	}
	// The token was needed: the API refuses a request without it.
	resp, err := http.Get(r.url + "/process")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /process without the token: %d, want 401", resp.StatusCode)
	}
}

// containsLine tells whether a line of out starts with prefix and holds s.
func containsLine(out, prefix, s string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, s) {
			return true
		}
	}
	return false
}
