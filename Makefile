# sandbox-api build and test entry points. `make run` and `make test` are the
# two commands a developer needs.

VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)

BIN     := bin/sandbox-api
PORT    ?= 8080
ARGS    ?=
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT) -X main.buildTime=$(BUILD_TIME)

# `make image`: the published image; `make run-image TOML=...`: any image.
IMAGE     ?= sandbox-api:latest
TOML      ?=
RUN_FLAGS ?=

.PHONY: build run test test-go test-sdk test-browser test-mcp bench bench-uploads bench-latency bench-streams fuzz clean image run-image e2e-image

# The terminal page's xterm.js files, copied from npm once and embedded in
# the binary (a plain `go build` works without them; the page then says how
# to bundle them).
WEBUI_ASSETS := terminal/webui/assets/xterm.js
$(WEBUI_ASSETS):
	sh terminal/webui/bundle.sh

# A static binary: it is dropped into containers whatever their libc.
build: $(WEBUI_ASSETS)
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sandbox-api

run: build
	./$(BIN) --port $(PORT) $(ARGS)

# Every test suite of the project. scripts/test-setup.sh installs what the
# suites need (Debian packages as root, npm ci); scripts/test-suites.sh runs
# each suite to its end whatever the others did, keeps each one's output in
# test-results/, and ends with a summary (counts and the names of failures).
test: build
	@sh scripts/test-setup.sh
	@bash scripts/test-suites.sh go entrypoint sdk browser mcp

# Plain `go test -v` output, so CI can count the tests.
test-go:
	@sh scripts/gofmt-check.sh
	go vet ./...
	go test -race -count=1 -timeout 60m -v ./...

# End to end: the real @blaxel/core SDK drives the real binary
# (`npm ci` in e2e/sdk first; .ci/run does it).
test-sdk: build
	cd e2e/sdk && SANDBOX_API_BIN=$(CURDIR)/$(BIN) node --test

# The MCP end-to-end test: the official TypeScript @modelcontextprotocol/sdk
# drives /mcp of the real binary (`npm ci` in e2e/mcp first; .ci/run does it).
test-mcp: build
	cd e2e/mcp && SANDBOX_API_BIN=$(CURDIR)/$(BIN) node --test

# End to end in a browser: headless Chromium (Debian's chromium package)
# drives the web terminal of the real binary (`npm ci` in e2e/browser
# first; .ci/run does it). Screenshot: e2e/browser/artifacts/terminal.png.
test-browser: build
	cd e2e/browser && SANDBOX_API_BIN=$(CURDIR)/$(BIN) node --test

# Each fuzz target for FUZZTIME (`make test` runs their seed corpora only).
FUZZTIME ?= 30s
fuzz:
	go test -run '^$$' -fuzz '^FuzzJSONStringWriter$$' -fuzztime $(FUZZTIME) ./server/
	go test -run '^$$' -fuzz '^FuzzLineSplitter$$' -fuzztime $(FUZZTIME) ./process/
	go test -run '^$$' -fuzz '^FuzzChunkReader$$' -fuzztime $(FUZZTIME) ./process/
	go test -run '^$$' -fuzz '^FuzzStepValues$$' -fuzztime $(FUZZTIME) ./imagebuilder/
	go test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./internal/formdata/
	go test -run '^$$' -fuzz '^FuzzIndexDelim$$' -fuzztime $(FUZZTIME) ./internal/formdata/
	go test -run '^$$' -fuzz '^FuzzHealthJSONString$$' -fuzztime $(FUZZTIME) ./server/
	go test -run '^$$' -fuzz '^FuzzProcessJSON$$' -fuzztime $(FUZZTIME) ./server/
	go test -run '^$$' -fuzz '^FuzzFramedLines$$' -fuzztime $(FUZZTIME) ./process/
	go test -run '^$$' -fuzz '^FuzzIsVersionName$$' -fuzztime $(FUZZTIME) ./upgrade/
	go test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./mcp/

# Each figure beside its raw baseline; content search is compared with ripgrep.
bench:
	@command -v rg >/dev/null || { echo "make bench needs ripgrep: apt-get install -y ripgrep" >&2; exit 1; }
	go test -run '^$$' -bench . -benchmem ./...

# The bench-* targets below time the daemon of BEFORE (a git ref) beside
# this tree's in the same rounds: a before and an after under the same
# load. BUILD_BEFORE builds it, with the shipped flags (a binary's size
# shows in its start), into $$before, removed when the recipe ends.
BEFORE ?= main
BUILD_BEFORE = before=$$(mktemp -d) && trap 'rm -rf "$$before"' EXIT && \
	git archive $(BEFORE) | tar -x -C "$$before" && \
	(cd "$$before" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$$before/sandbox-api" ./cmd/sandbox-api)

# The two upload benchmarks: a before and an after that share one floor
# and one run (see cmd/sandbox-api/bench_upload_rounds_test.go).
bench-uploads:
	@$(BUILD_BEFORE) && \
	BENCH_BEFORE_BIN="$$before/sandbox-api" go test -run '^$$' -bench 'FormUpload256MB|MultipartUploadSDK' -benchtime 10x -count 3 ./cmd/sandbox-api/

# Start-up and exec-and-wait (before/minimal, before-overhead-p50-µs).
bench-latency:
	@$(BUILD_BEFORE) && \
	BENCH_BEFORE_BIN="$$before/sandbox-api" go test -run '^$$' -bench 'Startup' -benchtime 100x -count 3 ./cmd/sandbox-api/ && \
	BENCH_BEFORE_BIN="$$before/sandbox-api" go test -run '^$$' -bench 'ExecTrue' -benchtime 2000x -count 3 ./cmd/sandbox-api/

# The two stream benchmarks, log stream and streamed exec (before/raw-kept).
bench-streams:
	@$(BUILD_BEFORE) && \
	BENCH_BEFORE_BIN="$$before/sandbox-api" go test -run '^$$' -bench 'LogStream|ExecStream' -benchtime 6x -count 3 ./cmd/sandbox-api/

# The CA roots the published image carries, so that the daemon alone can
# fetch an upgrade over HTTPS (POST /upgrade): the build machine's Debian
# bundle (package ca-certificates), copied beside the binary.
CA_BUNDLE := bin/ca-certificates.crt
$(CA_BUNDLE): /etc/ssl/certs/ca-certificates.crt
	@mkdir -p bin
	cp $< $@

# The published image: the static binary of `make build` and the CA
# roots, alone in an empty image (see Dockerfile); no builder image to
# pull.
image: build $(CA_BUNDLE)
	docker build -t $(IMAGE) .

# The target of each [[runtime.ports]] table of $(TOML), a blaxel.toml.
toml_ports = $(if $(wildcard $(TOML)),$(shell awk '/^[[:space:]]*\[/ { p = /^[[:space:]]*\[\[[[:space:]]*runtime\.ports[[:space:]]*\]\]/ } p && /^[[:space:]]*target[[:space:]]*=/ { sub(/^[^=]*=[[:space:]]*"?/, ""); sub(/[^0-9].*/, ""); print }' $(TOML)))

# Runs $(IMAGE) with the API on $(PORT), each port of $(TOML) on the same
# number and the variables of its [env] table set. ARGS are the container's
# arguments: daemon flags for the published image, the command run as
# `main` for an entrypoint.sh image.
run-image:
	@if [ -n "$(TOML)" ] && [ ! -f "$(TOML)" ]; then echo "run-image: TOML=$(TOML): no such file" >&2; exit 1; fi
	@set --; if [ -n "$(TOML)" ]; then env_args=$$(awk -f docker/blaxel-toml-env.awk "$(TOML)") || exit 1; eval "$$env_args"; fi; \
	set -x; docker run --rm "$$@" $(RUN_FLAGS) -p $(PORT):8080 $(foreach p,$(filter-out 8080,$(toml_ports)),-p $(p):$(p)) $(IMAGE) $(ARGS)

# The images end to end: a private Docker engine builds and runs the
# published image and the examples of docker/, checked from outside (root;
# Debian's docker.io, mmdebstrap, busybox-static: see docker/e2e/doc.go).
# About 1 min with the base tarballs cached, 3 min without.
e2e-image:
	@sh scripts/test-setup.sh image
	@bash scripts/test-suites.sh image

clean:
	rm -rf bin/ test-results/
