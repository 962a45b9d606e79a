//go:build !linux

package main

import "go.uber.org/zap"

// raiseOpenFileLimit is Linux-only; elsewhere the Go runtime's own raise is enough.
func raiseOpenFileLimit(log *zap.Logger) {}
