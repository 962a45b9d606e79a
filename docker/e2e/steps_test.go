//go:build e2eimage

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The build steps of TestImages.

// buildBases imports the three local bases: the two Debian ones from their
// cached (or freshly bootstrapped) tarballs, the busybox one built on the
// fly.
func (s *suite) buildBases(t *testing.T) {
	hosts := mirrorHosts(s.sources)
	for _, b := range []debianBase{baseDebian, baseDebianDev} {
		start := time.Now()
		tarball, built, err := b.cachedTarball(s.cache, s.sources)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if err := checkNoMirror(tarball, hosts); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if _, err := s.d.run(10*time.Minute, "import",
			"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"--change", `CMD ["/bin/bash"]`, tarball, b.tag); err != nil {
			t.Fatal(err)
		}
		how := "from the cache"
		if built {
			how = "built by mmdebstrap in " + took.Round(time.Second).String()
		}
		st, _ := os.Stat(tarball)
		s.figs.add("base %s: tarball %s %s, imported in %s", b.tag, mib(st.Size()), how, time.Since(start).Round(100*time.Millisecond))
	}
	start := time.Now()
	if err := importBusyboxBase(s.d, s.busybox); err != nil {
		t.Fatal(err)
	}
	s.figs.add("base %s: %s, built and imported in %s", busyboxTag, mib(imageSize(t, s.d, busyboxTag)), time.Since(start).Round(100*time.Millisecond))
}

func (s *suite) buildPublishedImage(t *testing.T) {
	start := time.Now()
	binSize, size := buildPublished(t, s.d, s.root)
	checkPublishedContent(t, s.d)
	s.figs.add("binary bin/sandbox-api: %s", mib(binSize))
	s.figs.add("published image %s: %s (make build and docker build: %s)", publishedTag, mib(size), time.Since(start).Round(100*time.Millisecond))
}

// The examples, each on the local base standing in for its default one.
var examples = []struct{ name, base string }{
	{"debian", baseDebian.tag},
	{"alpine", busyboxTag},
	{"node-python", baseDebianDev.tag},
}

const (
	daemonEntrypointTag = "sbx-e2e/daemon-entrypoint:test"
	ncOnlyTag           = "sbx-e2e/debian-nc:test"
)

func (s *suite) buildImages(t *testing.T) {
	for _, ex := range examples {
		took := buildExample(t, s.d, s.root, ex.name, ex.base, exampleTag(ex.name))
		s.ports[ex.name] = checkExampleConfig(t, s.d, exampleTag(ex.name), filepath.Join(s.root, "docker", ex.name, "blaxel.toml"))
		s.figs.add("example %s on %s: %s, built in %s", exampleTag(ex.name), ex.base,
			mib(imageSize(t, s.d, exampleTag(ex.name))), took.Round(100*time.Millisecond))
	}
	buildTestImage(t, s.d, filepath.Join("testdata", "daemon-entrypoint"), busyboxTag, daemonEntrypointTag)
	buildTestImage(t, s.d, filepath.Join("testdata", "nc-only"), exampleTag("debian"), ncOnlyTag)
}

func imageSize(t *testing.T, d *dockerCLI, image string) int64 {
	t.Helper()
	var n int64
	fmt.Sscan(d.must(t, "image", "inspect", "-f", "{{.Size}}", image), &n)
	return n
}
