package entrypoint

// One run of entrypoint.sh: started with a controlled PATH and environment
// on a free port, watched over HTTP, and always stopped at the end.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

type options struct {
	shell []string          // interpreter argv (from needShell)
	path  string            // the whole PATH (from binDir)
	env   map[string]string // added to, or overriding, the defaults
	args  []string          // the container's arguments
}

type run struct {
	t      *testing.T
	cmd    *exec.Cmd
	port   int
	url    string
	dir    string // the entrypoint's working directory
	token  string // SANDBOX_API_TOKEN of the run, sent on every request
	stderr *testsupport.LogBuffer
	done   chan struct{} // closed when the entrypoint has exited
	code   int           // its exit status, once done
}

// readyTimeout is the SANDBOX_READY_TIMEOUT of every run that does not set
// its own: the hang guard, so a slow machine never makes the entrypoint
// give up on a daemon that is only starting slowly.
var readyTimeout = strconv.Itoa(int(testsupport.HangGuard / time.Second))

// start runs the script. The daemon gets a free port, its own log and
// upload folders, and a short shutdown grace so tests end quickly.
func start(t *testing.T, o options) *run {
	t.Helper()
	port := testsupport.FreePort(t, "tcp", "127.0.0.1")
	tmp := t.TempDir()
	r := &run{
		t:      t,
		port:   port,
		url:    "http://127.0.0.1:" + strconv.Itoa(port),
		dir:    filepath.Join(tmp, "work"),
		stderr: &testsupport.LogBuffer{},
		done:   make(chan struct{}),
	}
	mkdir(t, r.dir)
	env := map[string]string{
		"PATH":             o.path,
		"HOME":             r.dir,
		"TMPDIR":           tmp,
		"SHELL":            "/bin/sh",
		"SANDBOX_API_BIN":  daemonBin,
		"SANDBOX_API_PORT": strconv.Itoa(port),
		"SANDBOX_API_ARGS": "--log-dir " + filepath.Join(tmp, "logs") + " --shutdown-grace 2s",
		// The tests of the readiness limit set their own.
		"SANDBOX_READY_TIMEOUT": readyTimeout,
	}
	for k, v := range o.env {
		env[k] = v
	}
	r.token = env["SANDBOX_API_TOKEN"]
	argv := append(append(append([]string{}, o.shell...), script), o.args...)
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Dir = r.dir
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout = r.stderr // the daemon logs on stderr; nothing should come here, but keep it
	r.cmd.Stderr = r.stderr
	// A group of its own, so a run that goes wrong can be killed whole.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
		close(r.done)
	}()
	t.Cleanup(r.stop)
	return r
}

// stop ends a run a test left running: SIGTERM as docker stop would. A
// daemon left behind (the entrypoint died or hangs) gets SIGTERM itself, so
// that it still stops the processes it started, then the group SIGKILL.
// On failure, the run's output helps.
func (r *run) stop() {
	if r.t.Failed() {
		r.t.Logf("entrypoint output:\n%s", r.stderr.String())
	}
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(testsupport.HangGuard):
		}
	}
	group := -r.cmd.Process.Pid
	if syscall.Kill(group, 0) == nil {
		r.t.Errorf("processes of the entrypoint's group were left behind")
		_ = syscall.Kill(group, syscall.SIGTERM)
		for i := 0; i < 50 && syscall.Kill(group, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(group, syscall.SIGKILL)
	}
	<-r.done
}

// waitExit waits for the entrypoint to exit, under the hang guard, and
// returns its status.
func (r *run) waitExit() int {
	r.t.Helper()
	testsupport.Receive(r.t, r.done, "the entrypoint to exit")
	return r.code
}

// waitFor polls cond under the hang guard; the entrypoint must not exit
// meanwhile.
func (r *run) waitFor(what string, cond func() bool) {
	r.t.Helper()
	testsupport.Eventually(r.t, func() (bool, string) {
		if cond() {
			return true, ""
		}
		select {
		case <-r.done:
			r.t.Fatalf("waiting for %s: the entrypoint exited with status %d", what, r.code)
		default:
		}
		return false, what + " did not happen"
	})
}

// waitStderr waits for the entrypoint's output to contain s.
func (r *run) waitStderr(s string) {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("the output to contain %q", s), func() bool {
		return strings.Contains(r.stderr.String(), s)
	})
}

// proc is a ProcessResponse as the tests read it.
type proc = testsupport.Proc

func (r *run) processes() []proc {
	r.t.Helper()
	var list []proc
	r.getJSON("/process", &list)
	return list
}

// ended waits for process name to exist and end, and returns it.
func (r *run) ended(name string) proc {
	r.t.Helper()
	var p proc
	r.waitFor("process "+name+" to end", func() bool {
		resp, err := r.get("/process/" + name)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			r.t.Fatal(err)
		}
		return p.Status != "running"
	})
	return p
}

// stdout returns the whole stdout of process name.
func (r *run) stdout(name string) string {
	r.t.Helper()
	var logs struct {
		Stdout string `json:"stdout"`
	}
	r.getJSON("/process/"+name+"/logs", &logs)
	return logs.Stdout
}

func (r *run) getJSON(path string, v any) {
	r.t.Helper()
	resp, err := r.get(path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		r.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// get sends GET path with the run's token, if any.
func (r *run) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	if err != nil {
		return nil, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return http.DefaultClient.Do(req)
}

// gone tells whether pid no longer exists (reaped, not a zombie).
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// writeScript writes an executable script into a temp folder.
func writeScript(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
