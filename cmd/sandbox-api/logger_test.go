package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// Log lines carry their time in UTC, whatever the zone of the time logged.
func TestLogTimesAreUTC(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"UTC", time.Date(2026, 12, 6, 15, 4, 5, 6, time.UTC), `"ts":"2026-12-06T15:04:05.000000006Z"`},
		{"east", time.Date(2026, 12, 6, 17, 4, 5, 6, time.FixedZone("east", 2*3600)), `"ts":"2026-12-06T15:04:05.000000006Z"`},
		{"west", time.Date(2026, 12, 6, 10, 4, 5, 0, time.FixedZone("west", -5*3600)), `"ts":"2026-12-06T15:04:05Z"`},
	}
	cfg := zapcore.EncoderConfig{TimeKey: "ts", MessageKey: "msg", EncodeTime: utcRFC3339Nano}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, err := zapcore.NewJSONEncoder(cfg).EncodeEntry(zapcore.Entry{Time: tt.at, Message: "m"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if line := buf.String(); !strings.Contains(line, tt.want) {
				t.Fatalf("line %q lacks %s", line, tt.want)
			}
		})
	}
}
