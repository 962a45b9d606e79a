package server

import (
	"net/http"

	"github.com/sandbox-api/sandbox-api/upgrade"
)

// upgradeRequestJSON is the contract's UpgradeRequest, plus binaryPath and
// sha256 (this daemon's).
type upgradeRequestJSON struct {
	Version    string `json:"version"`
	BaseURL    string `json:"baseUrl"`
	BinaryPath string `json:"binaryPath"`
	SHA256     string `json:"sha256"`
}

// upgradeStarted is the contract's answer: the upgrade runs on, and
// /health follows it.
const upgradeStarted = "Upgrade initiated"

// startUpgrade serves POST /upgrade: it answers once the request is
// checked and the upgrade started, never waiting for it.
func startUpgrade(u *upgrade.Upgrader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req upgradeRequestJSON
		if !decodeJSON(w, r, maxSmallBody, &req, true) {
			return
		}
		err := u.Start(upgrade.Request{Version: req.Version, BaseURL: req.BaseURL, BinaryPath: req.BinaryPath, SHA256: req.SHA256})
		if err != nil {
			writeFailure(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": upgradeStarted})
	}
}
