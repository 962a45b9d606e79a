package server

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHealthFields(t *testing.T) {
	started := time.Date(2026, 1, 29, 18, 45, 49, 0, time.FixedZone("CET", 3600))
	h := healthHandler{
		opts: Options{Version: "v1.2.3", GitCommit: "abc123", BuildTime: "2026-01-29T17:36:52Z", StartedAt: started},
		now:  func() time.Time { return started.Add(90*time.Minute + 400*time.Millisecond) },
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got healthResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
	want := healthResponse{
		Status:        "ok",
		Version:       "v1.2.3",
		GitCommit:     "abc123",
		BuildTime:     "2026-01-29T17:36:52Z",
		GoVersion:     runtime.Version(),
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		StartedAt:     "2026-01-29T17:45:49Z",
		Uptime:        "1h30m0s",
		UptimeSeconds: 0, // compared below, with a float tolerance
		UpgradeCount:  0,
		LastUpgrade:   upgradeStatus{Status: "idle", Step: "none", Version: ""},
	}
	if math.Abs(got.UptimeSeconds-5400.4) > 1e-6 {
		t.Errorf("uptimeSeconds = %v, want 5400.4", got.UptimeSeconds)
	}
	got.UptimeSeconds = 0
	if got != want {
		t.Errorf("health\n got %+v\nwant %+v", got, want)
	}
}

// Every field the contract marks required must be on the wire, even when
// its value is a zero value.
func TestHealthRequiredKeysOnTheWire(t *testing.T) {
	s := newTestServer(t, Options{Token: "secret"}, nil)
	rec := s.do(httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (health is open even with a token): %s", rec.Code, rec.Body.String())
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"arch", "buildTime", "gitCommit", "goVersion", "lastUpgrade", "os",
		"startedAt", "status", "upgradeCount", "uptime", "uptimeSeconds", "version",
	} {
		if _, ok := body[key]; !ok {
			t.Errorf("missing key %q in %s", key, rec.Body.String())
		}
	}
	var last map[string]string
	if err := json.Unmarshal(body["lastUpgrade"], &last); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"status", "step", "version"} {
		if _, ok := last[key]; !ok {
			t.Errorf("missing lastUpgrade.%s in %s", key, body["lastUpgrade"])
		}
	}
	if _, err := time.Parse(time.RFC3339, stringOf(t, body["startedAt"])); err != nil {
		t.Errorf("startedAt is not RFC 3339: %v", err)
	}
}

func stringOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string: %v", raw, err)
	}
	return s
}

// TestPlatformRoutes: the contract's platform-only routes answer 501 JSON
// with the reason, the drive list is empty and codegen is 503 without a
// provider; their other methods stay 405 and unknown paths 404.
func TestPlatformRoutes(t *testing.T) {
	s := newTestServer(t, Options{}, nil)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/drives/mount", http.StatusOK},
		{http.MethodPost, "/drives/mount", http.StatusNotImplemented},
		{http.MethodDelete, "/drives/mount/%2Fmnt%2Fdata", http.StatusNotImplemented},
		{http.MethodPost, "/environment/reload", http.StatusNotImplemented},
		{http.MethodDelete, "/network/tunnel", http.StatusNotImplemented},
		{http.MethodPut, "/network/tunnel/config", http.StatusNotImplemented},
		{http.MethodPost, "/upgrade", http.StatusNotImplemented},
		{http.MethodPut, "/codegen/fastapply/%2Fsrc%2Fa.go", http.StatusServiceUnavailable},
		{http.MethodGet, "/codegen/reranking/%2Fsrc", http.StatusServiceUnavailable},
		{http.MethodGet, "/upgrade", http.StatusMethodNotAllowed},
		{http.MethodGet, "/codegen/other", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := s.do(httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d (%s)", tt.method, tt.path, rec.Code, tt.want, rec.Body.String())
			continue
		}
		if tt.want == http.StatusOK {
			continue
		}
		msg := decodeError(t, rec)
		if tt.want == http.StatusServiceUnavailable && msg != codegenNotConfigured {
			t.Errorf("%s %s: error %q, want %q", tt.method, tt.path, msg, codegenNotConfigured)
		}
		if tt.want == http.StatusNotImplemented && !strings.Contains(msg, "not implemented by this daemon") {
			t.Errorf("%s %s: error %q does not say why", tt.method, tt.path, msg)
		}
	}
}

// The health answer written by hand is, byte for byte, what encodeJSON
// writes for the same values, whatever strings the build stamps and
// whatever state the last upgrade is in.
func TestHealthJSONMatchesEncodingJSON(t *testing.T) {
	base := healthResponse{
		Status: "ok", Version: "v1.2.3", GitCommit: "abc123", BuildTime: "2026-01-29T17:36:52Z",
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Uptime: "1h30m0s", UptimeSeconds: 5400.4, StartedAt: "2026-01-29T17:45:49Z",
		LastUpgrade: upgradeStatus{Status: "idle", Step: "none"},
	}
	var cases []healthResponse
	for _, f := range []float64{0, 1e-7, 9.99e-7, 1e-6, 0.309637154, 1, 5400.4, 123456789.123, 1e20, 1e21, 3.5e22} {
		r := base
		r.UptimeSeconds = f
		cases = append(cases, r)
	}
	for _, v := range []string{"", "dev", `quote " and \ backslash`, "<tag>&amp;", "tab\tnew\nline\r\x00\x1f\x7f",
		"back\bspace and form\ffeed", "héllo 世界 🎉", "bad \xff utf-8", "cut \xe4\xb8", "cut \xe4\xb8\b before", "line\u2028sep\u2029"} {
		r := base
		r.Version, r.GitCommit, r.BuildTime, r.LastUpgrade.Version = v, v, v, v
		cases = append(cases, r)
	}
	// The last upgrade as /health shows it over its life: running (some
	// fields set), completed, failed with an error full of what needs
	// escaping, and a count of earlier upgrades.
	attempt := "2026-02-03T04:05:06Z"
	for _, u := range []upgradeStatus{
		{Status: "running", Step: "starting", Version: "v2.0.0"},
		{Status: "running", Step: "download", Version: "v2.0.0", DownloadURL: "https://example.invalid/sandbox-api?v=2&arch=amd64", BytesDownloaded: 1 << 20, LastAttempt: attempt},
		{Status: "completed", Step: "completed", Version: "v2.0.0", DownloadURL: "https://example.invalid/a", BytesDownloaded: 12345678, BinaryPath: "/var/lib/sandbox-api/upgrades/sandbox-api-v2", LastAttempt: attempt},
		{Status: "failed", Step: "validate", Version: "v2.0.0", BinaryPath: "/tmp/new bin", Error: `checksum mismatch: "abc" != "déf" — "ünïcödé" \ tab\t 🎉`, LastAttempt: attempt},
		{Status: "failed", Step: "download", Version: "", Error: "fetch: 404 Not Found\n<html>&</html>\x01"},
	} {
		r := base
		r.UpgradeCount, r.LastUpgrade = 3, u
		cases = append(cases, r)
	}
	for _, r := range cases {
		want, err := encodeJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendHealthJSON(nil, r); string(got) != string(want) {
			t.Errorf("health JSON\n got %s\nwant %s", got, want)
		}
	}
}

// FuzzHealthJSONString: any string the health answer carries is spelled as
// encoding/json spells it.
func FuzzHealthJSONString(f *testing.F) {
	for _, s := range []string{"", "a\bb\fc", "cut \xe4\xb8", "\xf0\x9f", "é\xff\"\\<>&\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := encodeJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		want = want[:len(want)-1] // encodeJSON's newline
		if got := appendJSONField(nil, "", s); string(got) != string(want) {
			t.Errorf("%q\n got %s\nwant %s", s, got, want)
		}
	})
}
