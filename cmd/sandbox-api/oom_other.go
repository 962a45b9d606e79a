//go:build !linux

package main

import "go.uber.org/zap"

// protectFromOOMKiller is Linux-only; elsewhere there is nothing to adjust.
func protectFromOOMKiller(log *zap.Logger) bool { return false }
