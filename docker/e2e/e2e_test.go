//go:build e2eimage

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// suite is what the steps share: the private engine's client, the
// repository, the static busybox, the figures, and the ports each example's
// blaxel.toml declares.
type suite struct {
	d       *dockerCLI
	root    string
	busybox string
	sources []string // the machine's apt source files
	cache   string   // where base tarballs are kept between runs
	figs    *figures
	ports   map[string][]int
}

// TestImages is the whole end-to-end run, in order: a private engine, the
// bases, the published image, the example images, then each image run and
// checked from outside, and last an image declared with imagebuilder. Building is shared, so it is one test with
// subtests; a failed build stops it, a failed run does not stop the others.
func TestImages(t *testing.T) {
	began := time.Now()
	s := &suite{busybox: requireEngineTools(t), figs: &figures{}, ports: map[string][]int{}}
	var err error
	if s.root, err = filepath.Abs("../.."); err != nil {
		t.Fatal(err)
	}
	if s.sources, err = aptSourceFiles(); err != nil {
		t.Fatal(err)
	}
	if s.cache, err = cacheDir(); err != nil {
		t.Fatal(err)
	}

	eng, err := startEngine()
	if errors.Is(err, errEngineLocked) {
		t.Fatal(err)
	}
	if err != nil {
		unavailable(t, "the Docker engine cannot start here: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the private dockerd's log ends with:\n%s", eng.logTail())
		}
		if err := eng.stop(); err != nil {
			t.Errorf("cleaning up the engine: %v", err)
		}
	})
	t.Cleanup(func() { // runs before the engine's cleanup, registered earlier
		s.figs.add("test time before the engine's cleanup: %s", time.Since(began).Round(time.Second))
		s.figs.log(t)
	})
	s.figs.add("engine: dockerd %s, data root %s, bridge %s (%s)", eng.version, eng.dir, engineBridge, eng.subnet)
	s.d = eng.docker

	for _, step := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"bases", s.buildBases},
		{"published_image", s.buildPublishedImage},
		{"build_images", s.buildImages},
	} {
		if !t.Run(step.name, step.f) {
			t.FailNow() // nothing can run without its images
		}
	}
	s.runImages(t)
	t.Run("make_run_image", s.checkMakeRunImage)
	t.Run("imagebuilder", s.checkImageBuilder)
}

// requireEngineTools checks what the engine and the bases need and returns
// the static busybox. Missing tools skip the test, except under CI.
func requireEngineTools(t *testing.T) string {
	t.Helper()
	const install = "apt-get install -y docker.io mmdebstrap busybox-static iproute2"
	if uid := os.Geteuid(); uid != 0 {
		unavailable(t, "a private dockerd and mmdebstrap need root (uid %d)", uid)
	}
	for _, tool := range []string{"dockerd", "docker", "mmdebstrap", "ip", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "no %s on PATH (%s)", tool, install)
		}
	}
	busybox, err := staticBusybox()
	if err != nil {
		unavailable(t, "%v", err)
	}
	return busybox
}

// unavailable skips with the reason; under CI=true the engine must run, so
// it fails instead.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: the image test must run in CI)", msg)
	}
	t.Skipf("skipping the image end-to-end test: %s", msg)
}
