//go:build e2eimage

package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// runSpec is one `docker run` of an image under test.
type runSpec struct {
	image string
	flags []string // extra docker run flags: -e, -w, -v…
	args  []string // the container's arguments
	ports []int    // container ports published besides 8080
	// ps lists the container's processes as STAT PID PPID ARGS; nil for
	// an image without ps.
	ps []string
}

var defaultPS = []string{"ps", "-eo", "stat,pid,ppid,args"}

// ctr is a running container seen from the host.
type ctr struct {
	t     *testing.T
	d     *dockerCLI
	name  string
	spec  runSpec
	api   *sandboxAPI
	ports map[int]string // container port → host address (127.0.0.1:N)
	runAt time.Time      // just before `docker run`
}

// runContainer starts the container detached, each port published on a
// random port of 127.0.0.1 only, and removes it when the test ends (after
// printing its output if the test failed).
func runContainer(t *testing.T, d *dockerCLI, spec runSpec) *ctr {
	t.Helper()
	c := &ctr{t: t, d: d, spec: spec, ports: map[int]string{},
		name: fmt.Sprintf("sbx-e2e-%d", time.Now().UnixNano())}
	args := []string{"run", "-d", "--name", c.name, "-p", "127.0.0.1::8080"}
	for _, p := range spec.ports {
		args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", p))
	}
	args = append(append(append(args, spec.flags...), spec.image), spec.args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of container %s (%s), the daemon's access log left out:\n%s", c.name, spec.image, tail(withoutAccessLog(c.logs()), 6000))
		}
		_, _ = d.run(time.Minute, "rm", "-f", "-v", c.name)
	})
	c.runAt = time.Now()
	if _, err := d.run(2*time.Minute, args...); err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]int{8080}, spec.ports...) {
		out := d.must(t, "port", c.name, fmt.Sprintf("%d/tcp", p))
		// One line per address; only 127.0.0.1 was asked for.
		c.ports[p] = strings.TrimSpace(strings.Split(out, "\n")[0])
	}
	c.api = newSandboxAPI(c.ports[8080])
	return c
}

// waitHealthy polls /health through the published port and returns the
// time from `docker run` to the first 200.
func (c *ctr) waitHealthy(max time.Duration) time.Duration {
	c.t.Helper()
	deadline := c.runAt.Add(max)
	for !c.api.healthy() {
		if time.Now().After(deadline) {
			c.t.Fatalf("/health did not answer 200 through %s within %s of docker run (container state: %s)",
				c.ports[8080], max, c.inspect("{{.State.Status}} exit {{.State.ExitCode}}"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(c.runAt)
}

func (c *ctr) inspect(format string) string {
	out, err := c.d.run(time.Minute, "inspect", "-f", format, c.name)
	if err != nil {
		return "?(" + err.Error() + ")"
	}
	return strings.TrimSpace(out)
}

// logs is the container's stdout and stderr (docker logs).
func (c *ctr) logs() string {
	out, err := runCmd(time.Minute, c.d.env, nil, "sh", "-c", `docker logs "$1" 2>&1`, "sh", c.name)
	if err != nil {
		return "(docker logs: " + err.Error() + ")"
	}
	return out
}

// withoutAccessLog drops the daemon's one-line-per-request log, which
// drowns what the entrypoint and the daemon's events said.
func withoutAccessLog(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, `"logger":"http"`) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// notJSON keeps the lines that are not the daemon's JSON log: what the
// entrypoint and the processes printed.
func notJSON(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			keep = append(keep, line)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

func (c *ctr) exec(args ...string) (string, error) {
	return c.d.run(time.Minute, append([]string{"exec", c.name}, args...)...)
}

// psLine is one process of the container.
type psLine struct {
	stat      string
	pid, ppid int
	args      string
}

func (c *ctr) processes() ([]psLine, string) {
	c.t.Helper()
	out, err := c.exec(c.spec.ps...)
	if err != nil {
		c.t.Fatal(err)
	}
	var ps []psLine
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 4 {
			continue // the header
		}
		pid, _ := strconv.Atoi(f[1])
		ppid, _ := strconv.Atoi(f[2])
		ps = append(ps, psLine{stat: f[0], pid: pid, ppid: ppid, args: strings.Join(f[3:], " ")})
	}
	return ps, out
}

// stop is `docker stop` with the hang guard as its grace before SIGKILL:
// it returns how long it took and the container's exit code.
func (c *ctr) stop() (time.Duration, int) {
	c.t.Helper()
	start := time.Now()
	grace := strconv.Itoa(int(testsupport.HangGuard / time.Second))
	if _, err := c.d.run(testsupport.HangGuard+time.Minute, "stop", "-t", grace, c.name); err != nil {
		c.t.Fatal(err)
	}
	took := time.Since(start)
	code, err := strconv.Atoi(c.inspect("{{.State.ExitCode}}"))
	if err != nil {
		c.t.Fatalf("exit code of %s: %v", c.name, err)
	}
	return took, code
}

// readFile copies one file out of the container, running or stopped.
func (c *ctr) readFile(path string) (string, error) {
	out, err := c.d.run(time.Minute, "cp", c.name+":"+path, "-")
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(bytes.NewReader([]byte(out)))
	if _, err := tr.Next(); err != nil {
		return "", fmt.Errorf("docker cp %s: %w", path, err)
	}
	b, err := io.ReadAll(tr)
	return string(b), err
}

// pid1 reads, from the host, what runs as PID 1 of the container: its
// command line, and whether it is PID 1 in its namespace (NSpid ends in 1).
func (c *ctr) pid1() (cmdline string, isPID1 bool) {
	c.t.Helper()
	hostPid := c.inspect("{{.State.Pid}}")
	b, err := os.ReadFile("/proc/" + hostPid + "/cmdline")
	if err != nil {
		c.t.Fatalf("cmdline of the container's first process: %v", err)
	}
	status, err := os.ReadFile("/proc/" + hostPid + "/status")
	if err != nil {
		c.t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" {
			isPID1 = f[len(f)-1] == "1"
		}
	}
	return strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " "), isPID1
}
