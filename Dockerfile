# The published image: only the static daemon, at /sandbox-api, and the CA
# roots it needs on its own to fetch an upgrade over HTTPS. Custom sandbox
# images take the daemon with
#   COPY --from=<this image> /sandbox-api /usr/local/bin/sandbox-api
# (their base brings its own CA roots), and it also runs on its own. It
# packages the binary `make build` made and the build machine's CA bundle
# (`make image` makes both), so no builder image is pulled.
FROM scratch
COPY bin/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/sandbox-api /sandbox-api
EXPOSE 8080
ENTRYPOINT ["/sandbox-api"]
