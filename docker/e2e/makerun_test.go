//go:build e2eimage

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// checkMakeRunImage runs an example image the way the README says,
// `make run-image IMAGE=... PORT=... TOML=... ARGS=...`, in the foreground
// as a user would, then stops it with docker stop: the API answers on PORT,
// the port of the blaxel.toml is published on the same number, its [env]
// variables are set, the arguments run as process main, and make returns 0 once the container has
// stopped and is removed.
func (s *suite) checkMakeRunImage(t *testing.T) {
	apiPort, appPort := testsupport.FreePort(t, "tcp", "127.0.0.1"), testsupport.FreePort(t, "tcp", "127.0.0.1")
	toml := filepath.Join(t.TempDir(), "blaxel.toml")
	const envTable = "[env]\nGREETING = \"hello from # blaxel.toml\"\nLEVEL = 3\n"
	if err := os.WriteFile(toml, []byte(fmt.Sprintf("name = \"make-run\"\ntype = \"sandbox\"\n\n[[runtime.ports]]\nname = \"app\"\ntarget = %d\nprotocol = \"tcp\"\n\n%s", appPort, envTable)), 0o644); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("sbx-e2e-makerun-%d", time.Now().UnixNano())
	cmd := exec.Command("make", "--no-print-directory", "-C", s.root, "run-image",
		"IMAGE="+exampleTag("debian"), fmt.Sprintf("PORT=%d", apiPort), "TOML="+toml,
		"RUN_FLAGS=--name "+name, "ARGS=sleep 86400") // make pastes ARGS into a shell line: no operators
	cmd.Env = s.d.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once make has returned waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_, _ = s.d.run(time.Minute, "rm", "-f", name)
		select {
		case <-exited:
		case <-time.After(testsupport.HangGuard):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("make run-image said:\n%s", tail(withoutAccessLog(out.String()), 6000))
		}
	})

	began := time.Now()
	api := newSandboxAPI(fmt.Sprintf("127.0.0.1:%d", apiPort))
	deadline := time.Now().Add(testsupport.HangGuard)
	for !api.healthy() {
		select {
		case <-exited:
			t.Fatalf("make run-image ended before /health answered: %v", waitErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health did not answer on port %d within the hang guard", apiPort)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitProcessStatus(t, api, "main", "running", "")
	if p, _, err := api.process("main"); err != nil || p.Command != "sleep 86400" {
		t.Errorf("main: %v %v, want the command sleep 86400 from ARGS", p, err)
	}
	// The [env] table reached the container, so processes inherit it.
	if p, code, body, err := api.start(map[string]any{"command": `echo "$GREETING/$LEVEL"`, "waitForCompletion": true}); err != nil || code != 200 ||
		p.Logs == nil || *p.Logs != "hello from # blaxel.toml/3\n" {
		t.Errorf("the [env] of blaxel.toml in a process: %v %d %s %v", p, code, body, err)
	}
	if got := s.d.must(t, "port", name, fmt.Sprintf("%d/tcp", appPort)); !strings.HasSuffix(strings.Split(got, "\n")[0], fmt.Sprintf(":%d", appPort)) {
		t.Errorf("blaxel.toml's port %d is published as %q, want the same number", appPort, got)
	}

	ready := time.Since(began)
	stopAt := time.Now()
	// SIGKILL only after the hang guard: a slow shutdown still exits 0.
	if _, err := s.d.run(testsupport.HangGuard+time.Minute, "stop", "-t", strconv.Itoa(int(testsupport.HangGuard/time.Second)), name); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("make run-image after docker stop: %v, want exit 0", waitErr)
		}
		s.figs.add("%-36s make → /health 200: %7s   docker stop → make exits: %7s", "make_run_image", ms(ready), ms(time.Since(stopAt)))
	case <-time.After(testsupport.HangGuard):
		t.Fatal("make run-image still running after docker stop")
	}
	if left := s.d.must(t, "ps", "-aq", "--filter", "name="+name); left != "" {
		t.Errorf("container %s left behind (docker run --rm)", left)
	}
}

// waitProcessStatus polls GET /process/{name} until it has the status and
// its logs hold want.
func waitProcessStatus(t *testing.T, api *sandboxAPI, name, status, want string) {
	t.Helper()
	deadline := time.Now().Add(testsupport.HangGuard)
	for {
		p, code, err := api.process(name)
		if err == nil && code == 200 && p.Status == status && strings.Contains(p.LogsText(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %s: %v (%d, %v), want status %s with %q in its logs", name, p, code, err, status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
