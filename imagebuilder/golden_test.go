package imagebuilder

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// checkGolden compares got with testdata/<name>.golden (rewritten by -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s mismatch\n--- got\n%s--- want\n%s", name, got, want)
	}
}

var base = FromRegistry("python:3.11-slim")

func TestDockerfileGolden(t *testing.T) {
	tests := []struct {
		name string
		img  Image
	}{
		{"from", base},
		{"apt", base.AptInstall("git", "curl")},
		{"apk", FromRegistry("alpine:3.20").ApkInstall("bash", "py3-pip")},
		{"pip", base.PipInstall("requests==2.32.3", "numpy>=2")},
		{"npm", FromRegistry("node:22").NpmInstall("@scope/tool@1.2", "typescript")},
		{"run", base.Run("echo hi && touch /x")},
		{"workdir", base.Workdir("/app")},
		{"env", base.Env(map[string]string{"B": "two words", "A": `q"uo$te\`})},
		{"copy", base.Copy("testdata/src", "/app/src")},
		{"expose", base.Expose(8000, 3000)},
		{"user", base.User("1000:1000")},
		{"entrypoint", base.Entrypoint("python", "-m", "uvicorn", "main:app")},
		{"cmd", base.Cmd("sleep", "infinity")},
		{"sandbox_image", base.WithSandboxImage("localhost/sandbox-api:dev")},
		{"doc_example", base.AptInstall("git").Workdir("/app").PipInstall("requests")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.img.Err(); err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			checkGolden(t, tt.name, tt.img.Dockerfile())
		})
	}
}

// TestBranching is the documentation's example: deriving two images from a
// base must leave the base, and each branch, unaffected by the other.
func TestBranching(t *testing.T) {
	b := FromRegistry("python:3.11-slim").AptInstall("git", "curl").Workdir("/app")
	before := b.Dockerfile()
	ml := b.PipInstall("torch", "transformers", "datasets").Env(map[string]string{"CUDA_VISIBLE_DEVICES": "0"})
	web := b.PipInstall("fastapi", "uvicorn", "sqlalchemy").Expose(8000).
		Entrypoint("python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0")
	if got := b.Dockerfile(); got != before {
		t.Errorf("base changed after branching:\n%s", got)
	}
	checkGolden(t, "branch_base", b.Dockerfile())
	checkGolden(t, "branch_ml", ml.Dockerfile())
	checkGolden(t, "branch_web", web.Dockerfile())
}
