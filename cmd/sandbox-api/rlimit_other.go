//go:build !linux

package main

import "go.uber.org/zap"

// raiseOpenFileLimit is Linux-only; elsewhere the Go runtime's own raise is
// enough. The limit is reported unknown (0).
func raiseOpenFileLimit(log *zap.Logger) uint64 { return 0 }
