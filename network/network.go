// Package network tells which TCP ports the container's processes listen
// on, from /proc, and watches process trees for new listeners.
package network

import (
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/process"
)

// Config wires a Service.
type Config struct {
	Processes *process.Manager
	Logger    *zap.Logger
}

// Service answers port questions and runs port monitors.
type Service struct {
	cfg Config
}

// New makes a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Service{cfg: cfg}
}

// Close stops every monitor.
func (s *Service) Close() {}
