package server

import (
	"net/http"
	"runtime"
	"time"
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

// upgradeStatus is UpgradeStatus of the contract. This daemon does not
// upgrade itself, so it always reports the idle state.
type upgradeStatus struct {
	Status  string `json:"status"`
	Step    string `json:"step"`
	Version string `json:"version"`
}

type healthHandler struct {
	opts Options
	now  func() time.Time // injectable so tests can pin the uptime
}

func (h healthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	uptime := max(h.now().Sub(h.opts.StartedAt), 0)
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
		UpgradeCount:  0,
		LastUpgrade:   upgradeStatus{Status: "idle", Step: "none", Version: ""},
	})
}
