//go:build !linux

package main

import "os"

// secureToken only keeps the token from the processes' environment where
// the daemon cannot execute itself again by /proc/self/exe.
func secureToken(*config) (warning, err error) {
	_ = os.Unsetenv(envToken)
	return nil, nil
}
