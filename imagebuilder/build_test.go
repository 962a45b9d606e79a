package imagebuilder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeDocker writes a docker stand-in that prints two progress lines, writes
// an image id to the --iidfile argument and fails when asked to.
func fakeDocker(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "docker")
	script := `#!/bin/sh
[ -n "$FAIL" ] && { echo "boom" >&2; exit 1; }
echo "Step 1/2 : FROM x"
echo "Successfully built abc" >&2
while [ $# -gt 0 ]; do [ "$1" = --iidfile ] && printf 'sha256:abc\n' > "$2"; shift; done
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildWithFakeDocker(t *testing.T) {
	docker := fakeDocker(t)
	var lines []string
	id, err := base.Build(context.Background(), BuildOptions{Docker: docker, Env: []string{"PATH=" + os.Getenv("PATH")},
		Progress: func(l string) { lines = append(lines, l) }})
	if err != nil {
		t.Fatal(err)
	}
	if id != "sha256:abc" {
		t.Errorf("id = %q", id)
	}
	if len(lines) != 2 {
		t.Errorf("progress lines = %q, want 2", lines)
	}
	_, err = base.Build(context.Background(), BuildOptions{Docker: docker, Env: []string{"PATH=" + os.Getenv("PATH"), "FAIL=1"}})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the output tail", err)
	}
	if _, err := base.AptInstall("a;b").Build(context.Background(), BuildOptions{Docker: docker}); err == nil {
		t.Error("Build accepted an invalid image")
	}
}
