package entrypoint

// The token leaves the entrypoint's environment: not in its own
// /proc/<pid>/environ (the block its shell was started with), nor in the
// daemon's, nor in the commands'; the API still requires it.

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

const entrypointToken = "ep-token-7d41-secret"

// procEnviron is /proc/<pid>/environ, NUL bytes shown as spaces.
func procEnviron(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(data), "\x00", " ")
}

// parentOf is the parent pid of pid, from /proc/<pid>/stat.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid ...: comm may hold spaces, not ")".
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("stat of %d: %q", pid, data)
	}
	return ppid
}

// tokenRun starts the entrypoint with the token and a command that runs
// until the end of the test, and returns the run and the command's pid.
func tokenRun(t *testing.T, sh []string, links map[string]string) (*run, int) {
	t.Helper()
	r := start(t, options{
		shell: sh,
		path:  binDir(t, links),
		env:   map[string]string{"SANDBOX_API_TOKEN": entrypointToken, "SANDBOX_STARTUP": "job: sleep 600"},
	})
	r.waitStderr("started job")
	var p proc
	r.getJSON("/process/job", &p)
	pid, err := strconv.Atoi(p.PID)
	if err != nil {
		t.Fatalf("job pid %q", p.PID)
	}
	// The API still wants the token, which the entrypoint sent.
	resp, err := http.Get(r.url + "/process")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /process without the token: %d, want 401", resp.StatusCode)
	}
	return r, pid
}

func TestTokenLeavesTheEntrypointEnvironment(t *testing.T) {
	for _, s := range shells {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sh := needShell(t, s)
			links := withTool(t, "curl", needTool(t, "curl"))
			links["readlink"] = needTool(t, "readlink")
			r, job := tokenRun(t, sh, links)
			daemon := parentOf(t, job)
			for who, pid := range map[string]int{"entrypoint": r.cmd.Process.Pid, "daemon": daemon, "command": job} {
				if env := procEnviron(t, pid); strings.Contains(env, entrypointToken) {
					t.Errorf("the %s's /proc/%d/environ holds the token: %s", who, pid, env)
				}
			}
			if parentOf(t, daemon) != r.cmd.Process.Pid {
				t.Errorf("the daemon's parent is %d, want the entrypoint %d (the same process after it executed itself again)", parentOf(t, daemon), r.cmd.Process.Pid)
			}
			if _, err := os.Stat("/proc/" + strconv.Itoa(r.cmd.Process.Pid) + "/fd/9"); err == nil {
				t.Error("the entrypoint kept the descriptor the token came through")
			}
		})
	}
}

// Where the shell cannot be executed again (no readlink on PATH), the
// daemon and the commands still do not get the token from the entrypoint.
func TestTokenWithoutReexecution(t *testing.T) {
	t.Parallel()
	sh := needShell(t, shells[0]) // dash: no applets of its own
	_, job := tokenRun(t, sh, withTool(t, "curl", needTool(t, "curl")))
	for who, pid := range map[string]int{"daemon": parentOf(t, job), "command": job} {
		if env := procEnviron(t, pid); strings.Contains(env, entrypointToken) {
			t.Errorf("the %s's /proc/%d/environ holds the token: %s", who, pid, env)
		}
	}
}
