package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/upgrade"
)

type idleFront struct{}

func (idleFront) Pause()  {}
func (idleFront) Resume() {}

// POST /upgrade answers at once: 400 for what cannot be fetched, 200 for
// an upgrade started, whose failure /health then reports with its step.
func TestUpgradeRoute(t *testing.T) {
	releases := httptest.NewServer(http.NotFoundHandler())
	defer releases.Close()
	u := upgrade.New(upgrade.Config{Dir: t.TempDir()}, upgrade.History{})
	defer u.Close()
	h := newHandler(Options{Logger: zap.NewNop()}, Services{Upgrades: u}, nil)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}

	if rec := do(http.MethodPost, "/upgrade", `{"version":"v2","baseUrl":"`+releases.URL+`"}`); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("before Attach: %d %s, want 503", rec.Code, rec.Body)
	}
	u.Attach(upgrade.Daemon{Front: idleFront{}})
	for _, tc := range []struct{ body, want string }{
		{`{}`, "no release site"},
		{`{"version":"../x","baseUrl":"` + releases.URL + `"}`, "version"},
		{`{"version":"v2","baseUrl":"ftp://example.com"}`, "baseUrl"},
		{`{"binaryPath":"relative/path"}`, "absolute"},
		{`{"version":"v2","baseUrl":"` + releases.URL + `","sha256":"abc"}`, "sha256"},
	} {
		rec := do(http.MethodPost, "/upgrade", tc.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(decodeError(t, rec), tc.want) {
			t.Errorf("%s: %d %s, want 400 about %s", tc.body, rec.Code, rec.Body, tc.want)
		}
	}

	rec := do(http.MethodPost, "/upgrade", `{"version":"v2","baseUrl":"`+releases.URL+`"}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), upgradeStarted) {
		t.Fatalf("a valid request: %d %s", rec.Code, rec.Body)
	}
	var health healthResponse
	testsupport.Eventually(t, func() (bool, string) {
		rec := do(http.MethodGet, "/health", "")
		_ = json.Unmarshal(rec.Body.Bytes(), &health)
		return health.LastUpgrade.Status == "failed", "lastUpgrade: " + rec.Body.String()
	})
	l := health.LastUpgrade
	if l.Step != "download" || l.Version != "v2" || l.DownloadURL != releases.URL+"/download/v2/sandbox-api-linux-"+runtime.GOARCH || !strings.Contains(l.Error, "404") || l.LastAttempt == "" || health.UpgradeCount != 0 {
		t.Fatalf("lastUpgrade after a 404: %+v (count %d)", l, health.UpgradeCount)
	}
}
