package main

import (
	"io"
	"testing"
)

func TestUpgradeFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args    []string
		ok      bool
		baseURL string
		dir     string
	}{
		{nil, true, "", ""},
		{[]string{"--upgrade-base-url", "https://releases.example/sandbox-api/releases"}, true, "https://releases.example/sandbox-api/releases", ""},
		{[]string{"--upgrade-base-url", "http://127.0.0.1:9000/r", "--upgrade-dir", "/var/lib/sandbox-api/upgrade"}, true, "http://127.0.0.1:9000/r", "/var/lib/sandbox-api/upgrade"},
		{[]string{"--upgrade-base-url", "file:///srv/releases"}, false, "", ""},
		{[]string{"--upgrade-base-url", "releases.example/r"}, false, "", ""},
		{[]string{"--upgrade-base-url", "https://releases.example/r?tag=1"}, false, "", ""},
	} {
		c, err := parseFlags(tc.args, noEnv, io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok %v", tc.args, err, tc.ok)
			continue
		}
		if tc.ok && (c.upgrade.baseURL != tc.baseURL || c.upgrade.dir != tc.dir) {
			t.Errorf("%q: base URL %q, dir %q", tc.args, c.upgrade.baseURL, c.upgrade.dir)
		}
	}
}
