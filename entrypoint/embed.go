package entrypoint

import _ "embed" // for the go:embed directive below

// Script is entrypoint.sh, exported so that Go code (imagebuilder) can put
// it in a build context: go:embed cannot reach a parent directory.
//
//go:embed entrypoint.sh
var Script []byte
