package main

import (
	"fmt"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger returns the daemon's JSON logger on stderr, through a logSink
// so that a stalled stderr never blocks the daemon, and on a copy of the
// descriptor (logOutput) so that a stderr whose reader left never kills it.
func newLogger() (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	// Sampling would drop repeated lines (access logs of a polling client):
	// when debugging a sandbox, every line counts.
	cfg.Sampling = nil
	// Panics log their own stack; automatic stacks on every error line are noise.
	cfg.DisableStacktrace = true
	// No "caller" field: each line would unwind the stack and look up the
	// file and line of its caller (a microsecond, on every access log line),
	// and the lookups keep about 0.2 MB more of the binary's tables mapped.
	// The messages say where they come from.
	cfg.DisableCaller = true
	cfg.EncoderConfig.EncodeTime = utcRFC3339Nano
	sink := newLogSink(logOutput(), logSinkSize)
	logger, err := cfg.Build(zap.WrapCore(func(zapcore.Core) zapcore.Core {
		return zapcore.NewCore(zapcore.NewJSONEncoder(cfg.EncoderConfig), sink, cfg.Level)
	}), zap.ErrorOutput(sink))
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return logger, nil
}

// utcRFC3339Nano writes a line's time in UTC, as the API writes its times
// (lastModified). In the local zone, the first line would load the zone
// file, some 40 µs of every start before the first answer.
func utcRFC3339Nano(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	zapcore.RFC3339NanoTimeEncoder(t.UTC(), enc)
}
