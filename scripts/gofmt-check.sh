#!/bin/sh
# Fails, naming them, when Go files of the repository are not as gofmt
# writes them (go vet does not look at layout). Run by `make test-go` and
# by the go suite of scripts/test-suites.sh.
cd "$(dirname "$0")/.." || exit 2
unformatted=$(git ls-files -z '*.go' | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	printf 'gofmt: these files need `gofmt -w`:\n%s\n' "$unformatted"
	exit 1
fi
