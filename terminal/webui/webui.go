// Package webui holds the browser terminal page. Its xterm.js files are
// copied into assets/ at build time (go generate: bundle.sh) and embedded,
// so the page works without internet access; a plain `go build` still
// works, and the page then explains how to bundle them.
package webui

//go:generate sh bundle.sh

import (
	"embed"
	"io/fs"
)

//go:embed index.html missing.html assets
var files embed.FS

// Required are the bundled files the page loads.
var Required = []string{"xterm.js", "xterm.css", "addon-fit.js"}

// Assets are the bundled xterm.js files, by base name.
func Assets() fs.FS {
	sub, _ := fs.Sub(files, "assets") // "assets" is embedded: cannot fail
	return sub
}

// Bundled reports whether every file the page needs was embedded.
func Bundled() bool {
	for _, name := range Required {
		if _, err := fs.Stat(Assets(), name); err != nil {
			return false
		}
	}
	return true
}

// Page is the terminal page, or the how-to-bundle page when the assets are
// missing.
func Page() []byte {
	name := "index.html"
	if !Bundled() {
		name = "missing.html"
	}
	b, _ := files.ReadFile(name) // both are embedded
	return b
}
