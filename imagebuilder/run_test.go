package imagebuilder

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// fakeRunDocker writes a docker stand-in for Run: `run` prints a container
// id, `port` prints the address of api, `rm` is logged to a file.
func fakeRunDocker(t *testing.T, apiAddr string) (docker, rmLog string) {
	t.Helper()
	dir := t.TempDir()
	docker, rmLog = filepath.Join(dir, "docker"), filepath.Join(dir, "rm.log")
	script := `#!/bin/sh
case "$1" in
run) echo c0ffee ;;
port) echo "` + apiAddr + `" ;;
rm) echo "$@" >> "` + rmLog + `" ;;
*) exit 2 ;;
esac
`
	if err := os.WriteFile(docker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return docker, rmLog
}

func TestRunWithFakeDocker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		health  int
		timeout time.Duration // the health wait: a hang guard when it must succeed
		wantErr string
	}{
		{"healthy", http.StatusOK, testsupport.HangGuard, ""},
		{"never healthy", http.StatusServiceUnavailable, 500 * time.Millisecond, "not healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/health" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.health)
			}))
			defer api.Close()
			_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
			docker, rmLog := fakeRunDocker(t, "127.0.0.1:"+port)
			ctx := context.Background()
			c, err := Run(ctx, RunOptions{Image: "img", Docker: docker, Timeout: tc.timeout,
				Env: []string{"PATH=" + os.Getenv("PATH")}})
			removed := func() string { b, _ := os.ReadFile(rmLog); return string(b) }
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run = %v, want an error saying %q", err, tc.wantErr)
				}
				if removed() != "rm -f c0ffee\n" {
					t.Errorf("the unhealthy container was not removed: rm log %q", removed())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != "c0ffee" || c.URL != "http://127.0.0.1:"+port {
				t.Errorf("container %+v, want id c0ffee at http://127.0.0.1:%s", c, port)
			}
			if removed() != "" {
				t.Errorf("removed before Stop: %q", removed())
			}
			if err := c.Stop(ctx); err != nil || removed() != "rm -f c0ffee\n" {
				t.Errorf("Stop = %v, rm log %q", err, removed())
			}
		})
	}
	if _, err := Run(context.Background(), RunOptions{}); err == nil || !strings.Contains(err.Error(), "no image") {
		t.Errorf("Run without an image = %v", err)
	}
}
