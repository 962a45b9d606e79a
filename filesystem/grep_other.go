//go:build !linux

package filesystem

import "os"

// openGrepFile opens a file for content search (see grep_linux.go).
func openGrepFile(path string) (*os.File, error) { return os.Open(path) }
