package server

import (
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/sandbox-api/sandbox-api/upgrade"
)

// healthResponse is HealthResponse of the OpenAPI contract; every field is
// required there. The fields come in the existing daemon's order, for
// clients that compare answers as text.
type healthResponse struct {
	Status        string        `json:"status"`
	Version       string        `json:"version"`
	GitCommit     string        `json:"gitCommit"`
	BuildTime     string        `json:"buildTime"`
	GoVersion     string        `json:"goVersion"`
	OS            string        `json:"os"`
	Arch          string        `json:"arch"`
	Uptime        string        `json:"uptime"`
	UptimeSeconds float64       `json:"uptimeSeconds"`
	UpgradeCount  int           `json:"upgradeCount"`
	StartedAt     string        `json:"startedAt"`
	LastUpgrade   upgradeStatus `json:"lastUpgrade"`
}

// upgradeStatus is UpgradeStatus of the contract: status, step and version
// always, the rest once an upgrade has them.
type upgradeStatus struct {
	Status          string `json:"status"`
	Step            string `json:"step"`
	Version         string `json:"version"`
	DownloadURL     string `json:"downloadUrl,omitempty"`
	BytesDownloaded int64  `json:"bytesDownloaded,omitempty"`
	BinaryPath      string `json:"binaryPath,omitempty"`
	Error           string `json:"error,omitempty"`
	LastAttempt     string `json:"lastAttempt,omitempty"`
}

func wireUpgrade(s upgrade.Status) upgradeStatus {
	out := upgradeStatus{
		Status: string(s.State), Step: string(s.Step), Version: s.Version,
		DownloadURL: s.DownloadURL, BytesDownloaded: s.BytesDownloaded, BinaryPath: s.BinaryPath, Error: s.Error,
	}
	if !s.LastAttempt.IsZero() {
		out.LastAttempt = s.LastAttempt.UTC().Format(time.RFC3339)
	}
	return out
}

type healthHandler struct {
	opts     Options
	now      func() time.Time // injectable so tests can pin the uptime
	upgrades *upgrade.Upgrader
}

func (h healthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	uptime := max(h.now().Sub(h.opts.StartedAt), 0)
	last, count := upgradeStatus{Status: string(upgrade.StateIdle), Step: string(upgrade.StepNone)}, 0
	if h.upgrades != nil {
		s, n := h.upgrades.Status()
		last, count = wireUpgrade(s), n
	}
	body := appendHealthJSON(make([]byte, 0, 512), healthResponse{
		Status:        "ok",
		Version:       h.opts.Version,
		GitCommit:     h.opts.GitCommit,
		BuildTime:     h.opts.BuildTime,
		GoVersion:     runtime.Version(),
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		StartedAt:     h.opts.StartedAt.UTC().Format(time.RFC3339),
		Uptime:        uptime.Round(time.Second).String(),
		UptimeSeconds: uptime.Seconds(),
		UpgradeCount:  count,
		LastUpgrade:   last,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// appendHealthJSON appends r as encodeJSON writes it (the same bytes,
// health_test.go checks it), field by field. /health is the first request
// of every start and every probe of the platform, and encoding/json's first
// use of a struct type builds its encoder by reflection: about 0.1 ms, on a
// stack deep enough to grow, whose copy reads the binary's tables for each
// of some forty frames (about 0.3 MB more of the binary in memory for good).
func appendHealthJSON(b []byte, r healthResponse) []byte {
	b = appendJSONField(b, `{"status":`, r.Status)
	b = appendJSONField(b, `,"version":`, r.Version)
	b = appendJSONField(b, `,"gitCommit":`, r.GitCommit)
	b = appendJSONField(b, `,"buildTime":`, r.BuildTime)
	b = appendJSONField(b, `,"goVersion":`, r.GoVersion)
	b = appendJSONField(b, `,"os":`, r.OS)
	b = appendJSONField(b, `,"arch":`, r.Arch)
	b = appendJSONField(b, `,"uptime":`, r.Uptime)
	b = appendJSONFloat(append(b, `,"uptimeSeconds":`...), r.UptimeSeconds)
	b = strconv.AppendInt(append(b, `,"upgradeCount":`...), int64(r.UpgradeCount), 10)
	b = appendJSONField(b, `,"startedAt":`, r.StartedAt)
	b = appendJSONField(b, `,"lastUpgrade":{"status":`, r.LastUpgrade.Status)
	b = appendJSONField(b, `,"step":`, r.LastUpgrade.Step)
	b = appendJSONField(b, `,"version":`, r.LastUpgrade.Version)
	b = appendUpgradeDetails(b, r.LastUpgrade)
	return append(b, "}}\n"...)
}

// appendUpgradeDetails appends the fields of u that upgradeStatus marks
// omitempty, each only when set, as encoding/json does.
func appendUpgradeDetails(b []byte, u upgradeStatus) []byte {
	if u.DownloadURL != "" {
		b = appendJSONField(b, `,"downloadUrl":`, u.DownloadURL)
	}
	if u.BytesDownloaded != 0 {
		b = strconv.AppendInt(append(b, `,"bytesDownloaded":`...), u.BytesDownloaded, 10)
	}
	if u.BinaryPath != "" {
		b = appendJSONField(b, `,"binaryPath":`, u.BinaryPath)
	}
	if u.Error != "" {
		b = appendJSONField(b, `,"error":`, u.Error)
	}
	if u.LastAttempt != "" {
		b = appendJSONField(b, `,"lastAttempt":`, u.LastAttempt)
	}
	return b
}

// appendJSONFloat appends f as encoding/json writes a float64: plain
// decimals, exponents only for the very small and very large.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 is written 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
