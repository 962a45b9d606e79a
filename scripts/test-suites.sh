#!/usr/bin/env bash
# Runs the named test suites one after the other, each to its end whatever
# the others did, with their output shown as it comes (CI counts the Go
# tests in it) and kept in test-results/<suite>.log; then prints a summary:
# per suite the counts and the names of what failed, and exits non-zero if
# any suite failed.
#
# usage: scripts/test-suites.sh SUITE...   (go entrypoint sdk browser mcp image)
set -u

cd "$(dirname "$0")/.." || exit 2
results=test-results
mkdir -p "$results"
bin=${SANDBOX_API_BIN:-$PWD/bin/sandbox-api}

# The Go packages but the entrypoint's, which is a suite of its own.
mapfile -t go_packages < <(go list ./... | grep -v '/entrypoint$')

# go test's own bound on a package (10 minutes by default) is a deadline
# like any other: on a loaded machine the daemon's black-box tests alone can
# come near it. The tests bound each wait with their hang guard
# (internal/testsupport.HangGuard); this only catches a package that hangs.
go_timeout=60m

run_suite() {
	case $1 in
	go) sh scripts/gofmt-check.sh && go vet ./... && go test -race -count=1 -timeout "$go_timeout" -v "${go_packages[@]}" ;;
	entrypoint) go test -race -count=1 -timeout "$go_timeout" -v ./entrypoint/ ;;
	sdk) (cd e2e/sdk && SANDBOX_API_BIN=$bin node --test) ;;
	browser) (cd e2e/browser && SANDBOX_API_BIN=$bin node --test) ;;
	mcp) (cd e2e/mcp && SANDBOX_API_BIN=$bin node --test) ;;
	image) go test -tags e2eimage -count=1 -v -timeout 40m ./docker/e2e/ ;;
	*)
		echo "test-suites: unknown suite $1" >&2
		return 2
		;;
	esac
}

# summarize_go LOG: "N passed (M with subtests), F failed" and the failures.
summarize_go() {
	awk '
		/^--- PASS: /              { top++ }
		/^[ \t]*--- PASS: /        { all++ }
		/^[ \t]*--- FAIL: /        { failed++; names = names "\n    " $3 }
		/^FAIL[ \t]+[^ \t]+[ \t]/  { pkgs = pkgs "\n    package " $2 }
		/^panic: /                 { pkgs = pkgs "\n    " $0 }
		END {
			printf "%d passed (%d with subtests), %d failed%s%s", top, all, failed, names, pkgs
		}' "$1"
}

# summarize_node LOG: node --test's own counts and the names that failed.
summarize_node() {
	awk '
		/^# pass /      { pass = $3 }
		/^# fail /      { fail = $3 }
		/^# cancelled / { cancelled = $3 }
		/^[ \t]*not ok [0-9]+ - / { sub(/^[ \t]*not ok [0-9]+ - /, ""); names = names "\n    " $0 }
		END {
			printf "%d passed, %d failed", pass, fail
			if (cancelled) printf ", %d cancelled", cancelled
			printf "%s", names
		}' "$1"
}

declare -a lines
status=0
for suite in "$@"; do
	log=$results/$suite.log
	echo "==== suite $suite (output also in $log)"
	run_suite "$suite" 2>&1 | tee "$log"
	code=${PIPESTATUS[0]}
	case $suite in
	go | entrypoint | image) counts=$(summarize_go "$log") ;;
	*) counts=$(summarize_node "$log") ;;
	esac
	verdict=ok
	if [ "$code" != 0 ]; then
		verdict="FAILED (exit status $code)"
		status=1
	fi
	lines+=("$(printf '%-11s %s: %s' "$suite" "$verdict" "$counts")")
done

echo
echo "==== test summary"
for line in "${lines[@]}"; do
	echo "$line"
done
if [ "$status" = 0 ]; then
	echo "every suite passed"
else
	echo "some suites failed: see above, and test-results/*.log"
fi
exit "$status"
