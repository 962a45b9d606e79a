# The targets of every example folder (docker/*/Makefile sets IMAGE and
# includes this file). A folder is self-contained once built: `make build`
# copies entrypoint.sh, blaxel-toml-env.awk and this file next to the
# Dockerfile, so the folder copied elsewhere works the same.
#   make build [IMAGE=...] [BUILD_ARGS="--build-arg BASE=... --build-arg PACKAGES=..."]
#   make run [ARGS="command run as process main"] [RUN_FLAGS="-e SANDBOX_STARTUP=..."]
# `make run` passes blaxel.toml's [env] with -e, as Blaxel sets it.

BUILD_ARGS ?=
RUN_FLAGS  ?=
ARGS       ?=
# The reader of blaxel.toml's [env], when this folder is still inside the
# repository; `make build` copies it here too, so a copied folder keeps it.
TOML_ENV_AWK ?= ../blaxel-toml-env.awk

# The target of each [[runtime.ports]] table of blaxel.toml (the ports
# Blaxel routes), published beside 8080, the sandbox API.
PORTS := $(filter-out 8080,$(shell awk '/^[[:space:]]*\[/ { p = /^[[:space:]]*\[\[[[:space:]]*runtime\.ports[[:space:]]*\]\]/ } p && /^[[:space:]]*target[[:space:]]*=/ { sub(/^[^=]*=[[:space:]]*"?/, ""); sub(/[^0-9].*/, ""); print }' blaxel.toml))

.PHONY: build run

build:
	@if [ -f $(ENTRYPOINT_SH) ]; then cp $(ENTRYPOINT_SH) entrypoint.sh; \
	elif [ ! -f entrypoint.sh ]; then echo "build: put entrypoint.sh next to the Dockerfile (or set ENTRYPOINT_SH)" >&2; exit 1; fi
	@if [ -f $(TOML_ENV_AWK) ]; then cp $(TOML_ENV_AWK) blaxel-toml-env.awk; fi
	@if [ "$(EXAMPLE_MK)" != example.mk ]; then cp $(EXAMPLE_MK) example.mk; fi
	docker build -t $(IMAGE) $(BUILD_ARGS) .

# docker stop or Ctrl-C: the entrypoint passes the signal to the daemon,
# which stops every process before the container exits.
run:
	@set --; reader=$(TOML_ENV_AWK); [ -f "$$reader" ] || reader=blaxel-toml-env.awk; \
	if [ -f "$$reader" ]; then env_args=$$(awk -f "$$reader" blaxel.toml) || exit 1; eval "$$env_args"; \
	else echo "run: no blaxel-toml-env.awk (make build copies it): blaxel.toml's [env] is not passed" >&2; fi; \
	set -x; docker run --rm "$$@" $(RUN_FLAGS) -p 8080:8080 $(foreach p,$(PORTS),-p $(p):$(p)) $(IMAGE) $(ARGS)
