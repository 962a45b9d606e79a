#!/bin/sh
# Prepares what the test suites need, so that `make test` (and
# `make e2e-image` with the argument `image`) works on a fresh Debian
# machine: the Debian packages of the tools the tests drive, installed when
# missing and running as root (otherwise it stops at once with the exact
# command to run), and `npm ci` in each e2e/* folder whose node_modules is
# missing or older than its lockfile. No test is ever skipped for a missing
# tool: it is installed here, or the run stops here.
set -eu

cd "$(dirname "$0")/.."

# need CMD PACKAGE...: PACKAGE... are needed when CMD is not on PATH.
missing=""
need() {
	cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 || missing="$missing $*"
}

need gcc gcc libc6-dev      # the race detector needs cgo
need curl curl              # entrypoint.sh's HTTP clients, each tested
need wget wget
need shellcheck shellcheck  # entrypoint.sh is linted as POSIX sh
need node nodejs            # the SDK, MCP and browser end-to-end tests
need npm npm
need chromium chromium      # the web terminal in a real headless browser
need ip iproute2            # network namespaces of the network tests
need python3 python3        # listening servers in the port tests
need setpriv util-linux     # a daemon test drops a capability with it
need rg ripgrep             # the content-search benchmark's baseline (make bench)
# entrypoint.sh is tested on busybox sh, wget and nc; the image test copies
# the static busybox into an image, so it must be that package.
if command -v dpkg >/dev/null 2>&1; then
	dpkg -s busybox-static >/dev/null 2>&1 || missing="$missing busybox-static"
else
	need busybox busybox-static
fi
if [ "${1:-}" = image ]; then
	need dockerd docker.io  # a private Docker engine (legacy builder)
	need mmdebstrap mmdebstrap # base images from the apt mirror
	need update-ca-certificates ca-certificates # the CA roots the published image carries
fi

if [ -n "$missing" ]; then
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "test-setup: missing Debian packages:$missing" >&2
		echo "test-setup: install them as root, then run make again:" >&2
		echo "  sudo sh -c '$cmd'" >&2
		exit 1
	fi
	echo "test-setup: installing$missing"
	sh -c "$cmd"
fi

# npm ci where node_modules is missing or older than the lockfile (npm ci
# rewrites node_modules, so its time is that of the last install).
for dir in e2e/*/; do
	dir=${dir%/}
	lock=$dir/package-lock.json
	[ -f "$lock" ] || continue
	if [ ! -d "$dir/node_modules" ] || [ -n "$(find "$lock" -newer "$dir/node_modules")" ]; then
		echo "test-setup: npm ci in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund)
		touch "$dir/node_modules"
	fi
done
