//go:build e2eimage

package e2e

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// dockerCLI runs the docker client against the private engine only.
type dockerCLI struct{ env []string }

// newDockerCLI points the client at sock, with a private client config
// (no context, credential helper or proxy setting of the machine applies)
// and the legacy builder, the one the examples are written for.
func newDockerCLI(sock, configDir string) *dockerCLI {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "BUILDKIT_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"DOCKER_HOST=unix://"+sock,
		"DOCKER_CONFIG="+configDir,
		"DOCKER_BUILDKIT=0",
		"DOCKER_CLI_HINTS=false",
	)
	return &dockerCLI{env: env}
}

func (d *dockerCLI) run(timeout time.Duration, args ...string) (string, error) {
	return runCmd(timeout, d.env, nil, "docker", args...)
}

func (d *dockerCLI) runStdin(timeout time.Duration, stdin io.Reader, args ...string) (string, error) {
	return runCmd(timeout, d.env, stdin, "docker", args...)
}

// must runs a short docker command and fails the test if it fails.
func (d *dockerCLI) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.run(2*time.Minute, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}
