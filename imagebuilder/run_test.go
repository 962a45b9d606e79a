package imagebuilder

import (
	"context"
	"errors"
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
// id, `port` prints the address of api, `rm` is logged to a file; `image
// inspect` fails.
func fakeRunDocker(t *testing.T, apiAddr string) (docker, rmLog string) {
	t.Helper()
	return fakeDockerWithEntrypoint(t, apiAddr, "")
}

// fakeDockerWithEntrypoint is fakeRunDocker whose `image inspect` prints
// entrypoint, the JSON of the image's entrypoint ("": inspect fails).
func fakeDockerWithEntrypoint(t *testing.T, apiAddr, entrypoint string) (docker, rmLog string) {
	t.Helper()
	dir := t.TempDir()
	docker, rmLog = filepath.Join(dir, "docker"), filepath.Join(dir, "rm.log")
	inspect := "exit 2"
	if entrypoint != "" {
		inspect = "echo '" + entrypoint + "'"
	}
	script := `#!/bin/sh
case "$1" in
run) echo c0ffee ;;
port) echo "` + apiAddr + `" ;;
rm) echo "$@" >> "` + rmLog + `" ;;
image) ` + inspect + ` ;;
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

// A sandbox that never answers because its image's entrypoint replaced the
// one that starts the API is told so, with what to use instead; one whose
// entrypoint is ours only times out.
func TestRunNotHealthyNamesAForeignEntrypoint(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer api.Close()
	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	for _, tc := range []struct {
		name, entrypoint string
		foreign          string // what the error says of it ("": nothing)
	}{
		{"the documentation's webImage", `["python","-m","uvicorn","main:app","--host","0.0.0.0"]`, `entrypoint ["python" "-m" "uvicorn" "main:app" "--host" "0.0.0.0"] replaces the one that starts it`},
		{"no entrypoint at all", `null`, "no entrypoint, so nothing starts it"},
		{"entrypoint.sh as Build writes it", `["/bin/sh","/entrypoint.sh"]`, ""},
		{"entrypoint.sh as the examples run it", `["/entrypoint.sh"]`, ""},
		{"the daemon itself", `["/sandbox-api"]`, ""},
		{"a shell form that starts the daemon", `["/bin/sh","-c","/usr/local/bin/sandbox-api --port 8080"]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docker, _ := fakeDockerWithEntrypoint(t, "127.0.0.1:"+port, tc.entrypoint)
			_, err := Run(context.Background(), RunOptions{Image: "img", Docker: docker, Timeout: 300 * time.Millisecond,
				Env: []string{"PATH=" + os.Getenv("PATH")}})
			if err == nil || !strings.Contains(err.Error(), "not healthy") {
				t.Fatalf("Run = %v, want an error saying not healthy", err)
			}
			if got, want := errors.Is(err, ErrForeignEntrypoint), tc.foreign != ""; got != want {
				t.Fatalf("Run = %v; wraps ErrForeignEntrypoint: %v, want %v", err, got, want)
			}
			if tc.foreign != "" {
				for _, want := range []string{tc.foreign, "with Cmd", "SANDBOX_STARTUP"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Run = %v, want it to say %q", err, want)
					}
				}
			}
		})
	}
}
