package upgrade

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	asset := "sandbox-api-" + runtime.GOOS + "-" + runtime.GOARCH
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name       string
		cfg        Config
		req        Request
		wantURL    string
		wantPath   string
		wantVer    string
		wantSum    string
		wantErr    error
		wantErrMsg string
	}{
		{name: "latest by default", req: Request{BaseURL: "http://r.example/releases/"},
			wantURL: "http://r.example/releases/latest/download/" + asset, wantVer: "latest"},
		{name: "a tag", req: Request{Version: "v1.2.3", BaseURL: "https://r.example/rel"},
			wantURL: "https://r.example/rel/download/v1.2.3/" + asset, wantVer: "v1.2.3"},
		{name: "the operator's site", cfg: Config{BaseURL: "http://op.example/r"}, req: Request{Version: "v2"},
			wantURL: "http://op.example/r/download/v2/" + asset, wantVer: "v2"},
		{name: "no site at all", req: Request{Version: "v2"}, wantErr: ErrNoBaseURL},
		{name: "a path in a version", req: Request{Version: "../v2", BaseURL: "http://r.example"}, wantErr: ErrInvalidRequest},
		{name: "a file URL", req: Request{BaseURL: "file:///etc"}, wantErr: ErrInvalidRequest},
		{name: "a URL with a query", req: Request{BaseURL: "http://r.example/?x=1"}, wantErr: ErrInvalidRequest},
		{name: "a short sha256", req: Request{BaseURL: "http://r.example", SHA256: "abc"}, wantErr: ErrInvalidRequest},
		{name: "an upper-case sha256", req: Request{BaseURL: "http://r.example", SHA256: strings.ToUpper(sum)},
			wantURL: "http://r.example/latest/download/" + asset, wantVer: "latest", wantSum: sum},
		{name: "a binary path", req: Request{BinaryPath: "/opt/new/../sandbox-api"}, wantPath: "/opt/sandbox-api"},
		{name: "a relative binary path", req: Request{BinaryPath: "sandbox-api"}, wantErr: ErrInvalidRequest},
		{name: "a binary path and a version", req: Request{BinaryPath: "/opt/sandbox-api", Version: "v2"}, wantErr: ErrInvalidRequest},
		{name: "the own binary", cfg: Config{OwnPath: "/usr/local/bin/sandbox-api"}, req: OwnBinary(), wantPath: "/usr/local/bin/sandbox-api"},
		{name: "the own binary, unknown", req: OwnBinary(), wantErr: ErrInvalidRequest},
		{name: "--user: another site", cfg: Config{Restricted: true, BaseURL: "http://op.example/r"},
			req: Request{BaseURL: "http://other.example/r", SHA256: sum}, wantErr: ErrNotAllowed},
		{name: "--user: no sha256", cfg: Config{Restricted: true, BaseURL: "http://op.example/r"},
			req: Request{Version: "v2"}, wantErr: ErrNotAllowed},
		{name: "--user: no operator's site", cfg: Config{Restricted: true},
			req: Request{BaseURL: "http://r.example", SHA256: sum}, wantErr: ErrNotAllowed},
		{name: "--user: the operator's site, its sha256", cfg: Config{Restricted: true, BaseURL: "http://op.example/r/"},
			req:     Request{Version: "v2", BaseURL: "http://op.example/r", SHA256: sum},
			wantURL: "http://op.example/r/download/v2/" + asset, wantVer: "v2", wantSum: sum},
		{name: "--user: a path anyone may write", cfg: Config{Restricted: true}, req: Request{BinaryPath: "/tmp/sandbox-api"}, wantErr: ErrNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := New(tc.cfg, History{})
			p, err := u.plan(tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("plan(%+v) = %+v, %v; want %v", tc.req, p, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("plan(%+v): %v", tc.req, err)
			}
			if p.url != tc.wantURL || p.path != tc.wantPath || p.version != tc.wantVer || p.sha256 != tc.wantSum {
				t.Errorf("plan(%+v) = %+v; want url %q path %q version %q sha256 %q", tc.req, p, tc.wantURL, tc.wantPath, tc.wantVer, tc.wantSum)
			}
		})
	}
}
