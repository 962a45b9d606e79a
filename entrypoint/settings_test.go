package entrypoint

// Settings the entrypoint refuses before starting anything.

import (
	"strings"
	"testing"
)

func TestRefusedSettings(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"port", map[string]string{"SANDBOX_API_PORT": "http"}, "entrypoint: error: SANDBOX_API_PORT=http is not a port number\n"},
		{"timeout", map[string]string{"SANDBOX_READY_TIMEOUT": "1.5"}, "entrypoint: error: SANDBOX_READY_TIMEOUT=1.5 is not a whole number of seconds\n"},
		{"restart max", map[string]string{"SANDBOX_RESTART_MAX": "-1"}, "entrypoint: error: SANDBOX_RESTART_MAX=-1 is not a whole number\n"},
		{"restart window", map[string]string{"SANDBOX_RESTART_WINDOW": "1m"}, "entrypoint: error: SANDBOX_RESTART_WINDOW=1m is not a whole number of seconds\n"},
		{"bin", map[string]string{"SANDBOX_API_BIN": "/nonexistent/sandbox-api"}, "entrypoint: error: SANDBOX_API_BIN=/nonexistent/sandbox-api: not found or not executable\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachShell(t, func(t *testing.T, sh []string) {
				r := start(t, options{shell: sh, path: curlPath(t), env: c.env})
				if code := r.waitExit(); code != 1 {
					t.Errorf("exit status %d, want 1", code)
				}
				if !strings.Contains(r.stderr.String(), c.want) {
					t.Errorf("output lacks %q", c.want)
				}
			})
		})
	}
}

func TestNoHTTPTool(t *testing.T) {
	for _, s := range shells {
		if s.name == "busybox" {
			continue // its wget and nc applets are always there
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, options{shell: needShell(t, s), path: binDir(t, basicTools(t))})
			if code := r.waitExit(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			want := "entrypoint: error: none of curl, wget or nc is installed: install one, or make the daemon the entrypoint: [\"" + daemonBin + "\", \"-c\", \"<command>\"]\n"
			if !strings.Contains(r.stderr.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		})
	}
}
