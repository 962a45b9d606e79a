// Package e2e is the end-to-end test of the container images (`make
// e2e-image`): it starts a private Docker engine, builds base images without
// a registry, builds the published image from the root Dockerfile and the
// examples of docker/ on top of them, runs them and checks them from outside
// through their published ports.
//
// The test files carry the build tag e2eimage, so a plain `go test ./...`
// only compiles this doc file and runs nothing; run it with
//
//	go test -tags e2eimage -count=1 -v -timeout 40m ./docker/e2e/
//
// It needs root and Debian's docker.io, mmdebstrap and busybox-static
// packages. Without them it skips with the reason, except under CI=true,
// where it fails instead.
//
// Where things are:
//   - the engine: $TMPDIR/sandbox-api-e2e-engine (data root, exec root,
//     socket, pidfile, dockerd.log), bridge sbxe2e0, cgroup parent sbx-e2e;
//     all removed at the end, and at the start of the next run if a run
//     was killed;
//   - the Debian base tarballs: ${XDG_CACHE_HOME:-$HOME/.cache}/sandbox-api-e2e,
//     rebuilt when their inputs change (delete the folder to force it);
//   - the images (sbx-e2e/...:test) live in the private engine only.
//
// Files: e2e_test.go (the test and its order), steps_test.go (builds),
// runs_test.go (the runs), scenarios_test.go and checks_test.go (what a run
// checks), engine_test.go, bridge_test.go and stale_test.go (the engine),
// mmdebstrap_test.go, aptsources_test.go and busybox_test.go (the bases),
// images_test.go (image builds and their content), container_test.go,
// api_test.go and docker_test.go (talking to containers),
// imagebuilder_test.go (an image declared, built and run with the
// imagebuilder package), makerun_test.go (`make run-image` in the
// foreground), testdata/ (two Dockerfiles and the files the
// imagebuilder image copies).
package e2e
