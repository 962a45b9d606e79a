package main

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger returns the daemon's JSON logger on stderr.
func newLogger() (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	// Sampling would drop repeated lines (access logs of a polling client):
	// when debugging a sandbox, every line counts.
	cfg.Sampling = nil
	// Panics log their own stack; automatic stacks on every error line are noise.
	cfg.DisableStacktrace = true
	cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	logger, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return logger, nil
}
