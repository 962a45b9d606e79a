package server

import (
	"net/http"
	"runtime"
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
	writeJSON(w, http.StatusOK, healthResponse{
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
}
