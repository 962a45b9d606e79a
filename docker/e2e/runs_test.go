//go:build e2eimage

package e2e

import (
	"fmt"
	"testing"
)

// runImages runs every image under test, one subtest each, in turn (the
// timings mean more on an idle machine). One failing does not stop the
// others.
func (s *suite) runImages(t *testing.T) {
	run := func(name string, f func(t *testing.T) timings) {
		t.Run(name, func(t *testing.T) {
			tm := f(t)
			s.figs.add("%-36s docker run → /health 200: %7s   docker stop: %7s", name, ms(tm.ready), ms(tm.stop))
		})
	}

	// The daemon as PID 1, no entrypoint.sh.
	run("published_image_alone", func(t *testing.T) timings { return runPublishedAlone(t, s.d) })
	run("published_image_with_mounted_shell", func(t *testing.T) timings {
		return runDaemonEntrypoint(t, s.d, runSpec{
			image: publishedTag,
			flags: []string{"-v", s.busybox + ":/bin/sh:ro"}, // a static shell, nothing else
			args:  []string{"-c", "trap 'echo boot-got-TERM > /boot.term; exit 0' TERM; echo boot-ready; while :; do sleep 1; done"},
			ps:    []string{"/bin/sh", "-c", "ps -o stat,pid,ppid,args"},
		}, "/sandbox-api", "/boot.term")
	})
	run("daemon_entrypoint_on_busybox", func(t *testing.T) timings {
		return runDaemonEntrypoint(t, s.d, runSpec{image: daemonEntrypointTag, ps: defaultPS},
			"/usr/local/bin/sandbox-api", "/tmp/boot.term")
	})

	// The examples through entrypoint.sh. Their main command is given as
	// several arguments, which the entrypoint joins into one command.
	shellMain := entrypointRun{
		mainArgs:    []string{"echo", "main-ready", "&&", "exec", "sleep", "86400"},
		mainCommand: "echo main-ready && exec sleep 86400",
		mainOutput:  "main-ready",
	}
	run("example_debian", func(t *testing.T) timings {
		r := shellMain
		r.image = exampleTag("debian")
		return runWithEntrypoint(t, s.d, r)
	})
	run("example_alpine", func(t *testing.T) timings {
		r := shellMain
		r.image = exampleTag("alpine")
		// busybox's web server on the example's port, reached from outside.
		s.serveOn(&r, "alpine", func(port int) string { return fmt.Sprintf("httpd -f -p %d -h /", port) }, "")
		return runWithEntrypoint(t, s.d, r)
	})
	run("example_debian_with_nc_only", func(t *testing.T) timings {
		r := shellMain
		r.image = ncOnlyTag
		return runWithEntrypoint(t, s.d, r)
	})
	run("example_node-python", func(t *testing.T) timings {
		node := `node -e "console.log('main-ready ' + process.version); setInterval(function () {}, 1000000)"`
		r := entrypointRun{
			image:       exampleTag("node-python"),
			mainArgs:    []string{node},
			mainCommand: node,
			mainOutput:  "main-ready v",
		}
		// A dev server on the example's first port, reached from outside.
		s.serveOn(&r, "node-python", func(port int) string { return fmt.Sprintf("python3 -u -m http.server %d", port) }, "Serving HTTP")
		return runWithEntrypoint(t, s.d, r)
	})

	// entrypoint.sh gives up on a daemon that never answers.
	for _, ex := range []string{"debian", "alpine"} {
		t.Run("ready_timeout_"+ex, func(t *testing.T) { checkReadyTimeout(t, s.d, exampleTag(ex)) })
	}
	// entrypoint.sh starts again a daemon that died on its own.
	for _, ex := range []string{"debian", "alpine"} {
		t.Run("restart_after_crash_"+ex, func(t *testing.T) { checkRestartAfterCrash(t, s.d, exampleTag(ex)) })
	}
}

// serveOn adds to r a startup command `app` serving HTTP on the first port
// the example's blaxel.toml declares, publishes that port, and checks from
// outside that the server answers through it.
func (s *suite) serveOn(r *entrypointRun, example string, command func(port int) string, wantLog string) {
	ports := s.ports[example]
	if len(ports) == 0 {
		return
	}
	port := ports[0]
	r.ports = []int{port}
	r.extra = []string{"app: " + command(port)}
	r.more = func(t *testing.T, c *ctr) {
		checkRunning(t, c, "app", wantLog)
		checkHTTPPort(t, c, port)
	}
}
