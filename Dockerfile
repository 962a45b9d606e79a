# The published image: only the static daemon, at /sandbox-api. Custom
# sandbox images take it with
#   COPY --from=<this image> /sandbox-api /usr/local/bin/sandbox-api
# and it also runs on its own. It packages the binary `make build` made
# (`make image` builds both), so no builder image is pulled.
FROM scratch
COPY bin/sandbox-api /sandbox-api
EXPOSE 8080
ENTRYPOINT ["/sandbox-api"]
