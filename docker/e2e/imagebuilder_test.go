//go:build e2eimage

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/imagebuilder"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The imagebuilder package on the real engine: an image declared in Go,
// branched from a shared base, built with Build, started with Run, driven
// through its sandbox API from outside, then stopped.

const (
	builderTag      = "sbx-e2e/builder-app:test"
	builderOtherTag = "sbx-e2e/builder-other:test"
)

// checkImageBuilder is one subtest of TestImages, run after the other
// images (it needs the Debian base and the published image).
func (s *suite) checkImageBuilder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	data, err := filepath.Abs(filepath.Join("testdata", "imagebuilder"))
	if err != nil {
		t.Fatal(err)
	}

	// No step reaches a network: the engine's builds have none, so the
	// package steps (apt, pip, npm) are covered by the golden tests only.
	base := imagebuilder.FromRegistry(baseDebian.tag).
		WithSandboxImage(publishedTag).
		Workdir("/srv").
		Env(map[string]string{"GREETING": "hello from the builder"})
	app := base.
		Copy(filepath.Join(data, "app"), "/srv/app").
		Copy(filepath.Join(data, "note.txt"), "/srv/note.txt").
		Run("echo app-branch > /srv/branch").
		Expose(3000).
		Cmd("sleep", "86400")
	other := base.Run("echo other-branch > /srv/branch")
	for _, img := range []imagebuilder.Image{base, app, other} {
		if err := img.Err(); err != nil {
			t.Fatalf("declaring the image: %v", err)
		}
	}
	if strings.Contains(base.Dockerfile(), "COPY [") || strings.Contains(base.Dockerfile(), "RUN ") {
		t.Fatalf("deriving two images changed the base:\n%s", base.Dockerfile())
	}

	var progress []string
	start := time.Now()
	id, err := app.Build(ctx, imagebuilder.BuildOptions{
		Tag:      builderTag,
		Env:      s.d.env,
		Progress: func(line string) { progress = append(progress, line) },
	})
	if err != nil {
		t.Fatalf("Build: %v\nDockerfile:\n%s", err, app.Dockerfile())
	}
	took := time.Since(start)
	if !strings.HasPrefix(id, "sha256:") {
		t.Errorf("Build returned %q, want an image id", id)
	}
	if got := s.d.must(t, "image", "inspect", "-f", "{{.Id}}", builderTag); got != id {
		t.Errorf("tag %s is image %s, Build returned %s", builderTag, got, id)
	}
	if !slices.ContainsFunc(progress, func(l string) bool { return strings.HasPrefix(l, "Step 1/") }) {
		t.Errorf("the progress callback did not get the legacy builder's steps; it got:\n%s", strings.Join(progress, "\n"))
	}
	checkBuilderConfig(t, s.d, id)
	s.figs.add("imagebuilder image %s: %s, built in %s", builderTag, mib(imageSize(t, s.d, id)), took.Round(100*time.Millisecond))

	otherID, err := other.Build(ctx, imagebuilder.BuildOptions{Tag: builderOtherTag, Env: s.d.env})
	if err != nil {
		t.Fatalf("Build of the other branch: %v", err)
	}

	t.Run("failing_step", func(t *testing.T) {
		_, err := base.Run("echo the-step-failed >&2; exit 3").Build(ctx, imagebuilder.BuildOptions{Env: s.d.env})
		if err == nil || !strings.Contains(err.Error(), "the-step-failed") {
			t.Errorf("Build of a failing RUN: %v, want an error with the step's output", err)
		}
	})

	t.Run("run_app", func(t *testing.T) {
		began := time.Now()
		c := startBuilt(t, ctx, s.d, id)
		s.figs.add("imagebuilder.Run of %s until /health 200: %s", builderTag, ms(time.Since(began)))
		api := newSandboxAPI(strings.TrimPrefix(c.URL, "http://"))

		// The Cmd reached entrypoint.sh as the main command.
		waitProcessStatus(t, api, "main", "running", "")

		p, code, body, err := api.start(map[string]any{
			"name": "greet", "command": "sh /srv/app/greet.sh; cat /srv/note.txt /srv/branch",
			"waitForCompletion": true,
		})
		if err != nil || code != http.StatusOK {
			t.Fatalf("POST /process: %d %s %v", code, body, err)
		}
		want := "greet: hello from the builder in /srv as 0\ncopied folder content\na single copied file\napp-branch\n"
		if p.Status != "completed" || p.ExitCode != 0 || p.Logs == nil || *p.Logs != want {
			t.Errorf("greet: %v, want completed with logs %q", p, want)
		}

		stopBuilt(t, s.d, c)
		if api.healthy() {
			t.Errorf("%s still answers after Stop", c.URL)
		}
	})

	t.Run("run_other_branch", func(t *testing.T) {
		c := startBuilt(t, ctx, s.d, otherID)
		api := newSandboxAPI(strings.TrimPrefix(c.URL, "http://"))
		p, code, body, err := api.start(map[string]any{
			"name": "branch", "command": "cat /srv/branch; test -e /srv/app || echo no-app",
			"waitForCompletion": true,
		})
		if err != nil || code != http.StatusOK {
			t.Fatalf("POST /process: %d %s %v", code, body, err)
		}
		if want := "other-branch\nno-app\n"; p.Logs == nil || *p.Logs != want {
			t.Errorf("branch: %v, want logs %q", p, want)
		}
		stopBuilt(t, s.d, c)
	})
}

// checkBuilderConfig: the generated Dockerfile gave the image entrypoint.sh
// as its entrypoint, the declared port, environment and working directory.
func checkBuilderConfig(t *testing.T, d *dockerCLI, id string) {
	t.Helper()
	var cfg struct {
		Entrypoint   []string
		Cmd          []string
		Env          []string
		WorkingDir   string
		ExposedPorts map[string]any
	}
	if err := json.Unmarshal([]byte(d.must(t, "image", "inspect", "-f", "{{json .Config}}", id)), &cfg); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Entrypoint, " "); got != "/bin/sh /entrypoint.sh" {
		t.Errorf("entrypoint %q, want /bin/sh /entrypoint.sh", got)
	}
	if got := strings.Join(cfg.Cmd, " "); got != "sleep 86400" {
		t.Errorf("cmd %q, want sleep 86400", got)
	}
	if !slices.Contains(cfg.Env, "GREETING=hello from the builder") {
		t.Errorf("env %q lacks GREETING", cfg.Env)
	}
	if cfg.WorkingDir != "/srv" {
		t.Errorf("working dir %q, want /srv", cfg.WorkingDir)
	}
	if _, ok := cfg.ExposedPorts["3000/tcp"]; !ok {
		t.Errorf("exposed ports %v lack 3000/tcp", cfg.ExposedPorts)
	}
}

// startBuilt runs an image with imagebuilder.Run against the private
// engine and removes the container at the end if the test did not.
func startBuilt(t *testing.T, ctx context.Context, d *dockerCLI, id string) *imagebuilder.Container {
	t.Helper()
	c, err := imagebuilder.Run(ctx, imagebuilder.RunOptions{Image: id, Env: d.env, MemoryMB: 512, Timeout: testsupport.HangGuard})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.HasPrefix(c.URL, "http://127.0.0.1:") {
		t.Errorf("Run's URL %q is not on loopback", c.URL)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := runCmd(time.Minute, d.env, nil, "sh", "-c", `docker logs "$1" 2>&1`, "sh", c.ID)
			t.Logf("output of container %s:\n%s", c.ID, tail(withoutAccessLog(out), 6000))
		}
		_, _ = d.run(time.Minute, "rm", "-f", c.ID)
	})
	return c
}

// stopBuilt calls the container's Stop and checks the container is gone.
func stopBuilt(t *testing.T, d *dockerCLI, c *imagebuilder.Container) {
	t.Helper()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if left := d.must(t, "ps", "-aq", "--no-trunc", "--filter", "id="+c.ID); left != "" {
		t.Errorf("container %s still exists after Stop", left)
	}
}
