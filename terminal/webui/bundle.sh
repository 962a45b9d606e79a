#!/bin/sh
# Copies the xterm.js files the terminal page needs from npm into assets/,
# where go:embed picks them up. Needs npm and the registry, at build time only.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tmp" @xterm/xterm@5.5.0 @xterm/addon-fit@0.10.0
cp "$tmp/node_modules/@xterm/xterm/lib/xterm.js" assets/xterm.js
cp "$tmp/node_modules/@xterm/xterm/css/xterm.css" assets/xterm.css
cp "$tmp/node_modules/@xterm/addon-fit/lib/addon-fit.js" assets/addon-fit.js
