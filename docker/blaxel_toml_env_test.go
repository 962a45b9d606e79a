// Package docker holds the image variants; this test covers the script
// `make run-image` reads a blaxel.toml's [env] table with.
package docker

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBlaxelTomlEnv runs the script as `make run-image` does: its output is
// evaluated by sh, and the arguments it leaves are what docker run gets.
func TestBlaxelTomlEnv(t *testing.T) {
	cases := []struct {
		name, toml string
		want       []string // the -e values, in order
		wantErr    string
	}{
		{name: "no env table", toml: "name = \"x\"\n[runtime]\nmemory = 4096\n"},
		{
			name: "the documentation's example",
			toml: `name = "t"
[runtime]
memory = 8192 # 8GB
[[runtime.ports]]
name = "dev"
target = 3000
# Set environment variables
[env]
NODE_ENV = "development"
PYTHON_ENV = "development"
`,
			want: []string{"NODE_ENV=development", "PYTHON_ENV=development"},
		},
		{
			name: "quoting, comments and bare values",
			toml: `[env] # vars
"QUOTED" = "it's \"b\" \\ # $(c) ` + "`d`" + `" # comment
LIT = 'C:\dir # x'
TAB = "a\tb"
PORT = 3000
ON = true
EMPTY = ""
`,
			want: []string{"QUOTED=it's \"b\" \\ # $(c) `d`", `LIT=C:\dir # x`, "TAB=a\tb", "PORT=3000", "ON=true", "EMPTY="},
		},
		{
			name: "multi-line strings",
			toml: `[env]
SANDBOX_STARTUP = '''
web: npm run dev
worker: it's \n'''
B = """
one \
    two
three\t"""
C = "x\ny"
`,
			want: []string{"SANDBOX_STARTUP=web: npm run dev\nworker: it's \\n", "B=one two\nthree\t", "C=x\ny"},
		},
		{
			name: "only the env table",
			toml: "[env]\nA = \"1\"\n[runtime]\nB = \"2\"\n[env.nested]\nC = \"3\"\n",
			want: []string{"A=1"},
		},
		{name: "bad name", toml: "[env]\n\"A B\" = \"1\"\n", wantErr: "line 2: invalid variable name"},
		{name: "unterminated", toml: "[env]\nA = \"open\n", wantErr: "unterminated"},
		{name: "unterminated multi-line", toml: "[env]\nA = '''open\nstill\n", wantErr: "unterminated"},
		{name: "no equals", toml: "[env]\nA\n", wantErr: "no ="},
		{name: "trailing text", toml: "[env]\nA = \"x\" y\n", wantErr: "after the value"},
		{name: "shell in a bare value", toml: "[env]\nA = $(id)\n", wantErr: "unsupported value"},
		{name: "unknown escape", toml: "[env]\nA = \"\\q\"\n", wantErr: "unsupported escape"},
	}
	script, err := filepath.Abs("blaxel-toml-env.awk")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "blaxel.toml")
			if err := os.WriteFile(path, []byte(c.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			// As in the Makefile, then each argument NUL-terminated.
			cmd := exec.Command("sh", "-c", `a=$(awk -f "$0" "$1") || exit 1; set --; eval "$a"; for x in "$@"; do printf '%s\0' "$x"; done`, script, path)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(stderr.String(), c.wantErr) {
					t.Fatalf("got %q, %v, stderr %q; want a failure saying %q", out, err, stderr.String(), c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			var got, want []string
			if len(out) > 0 {
				got = strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			}
			for _, w := range c.want {
				want = append(want, "-e", w)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("docker run gets %q, want %q", got, want)
			}
		})
	}
}

// TestExampleMakeRunPassesEnv runs each example's `make run` against a
// docker that only prints its arguments: blaxel.toml's [env] and ports
// reach docker run, in the repository and in a copy of the folder made
// after `make build` (which copies the [env] reader next to the Makefile).
func TestExampleMakeRunPassesEnv(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	makeArgs := func(t *testing.T, dir string, args ...string) []string {
		t.Helper()
		cmd := exec.Command("make", append([]string{"--no-print-directory", "-s", "-C", dir}, args...)...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("make %v: %v\n%s", args, err, stderr.String())
		}
		return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	}
	repoAwk, err := filepath.Abs("blaxel-toml-env.awk")
	if err != nil {
		t.Fatal(err)
	}
	repoEntrypoint, err := filepath.Abs("../entrypoint/entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		example string
		want    []string // in order, within docker run's arguments
	}{
		{"debian", []string{"-e", "LANG=C.UTF-8", "-p", "8080:8080", "-p", "8000:8000", "sandbox-debian:latest", "sleep", "1"}},
		{"alpine", []string{"-e", "LANG=C.UTF-8", "-p", "8080:8080", "-p", "8000:8000", "sandbox-alpine:latest", "sleep", "1"}},
		{"node-python", []string{"-e", "NODE_ENV=development", "-e", "PYTHON_ENV=development", "-e",
			"SANDBOX_STARTUP=dev: if [ -f package.json ]; then npm install && npm run dev; fi\n",
			"-p", "8080:8080", "-p", "3000:3000", "-p", "8888:8888", "sandbox-node-python:latest", "sleep", "1"}},
	} {
		t.Run(c.example, func(t *testing.T) {
			want := append([]string{"run", "--rm"}, c.want...)
			if got := makeArgs(t, c.example, "run", "ARGS=sleep 1"); !slices.Equal(got, want) {
				t.Errorf("in the repository, docker gets %q, want %q", got, want)
			}
			// A copy of the folder, built once, then run from anywhere.
			copyDir := t.TempDir()
			for _, name := range []string{"Dockerfile", "Makefile", "blaxel.toml"} {
				b, err := os.ReadFile(filepath.Join(c.example, name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(copyDir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			makeArgs(t, copyDir, "build", "ENTRYPOINT_SH="+repoEntrypoint, "TOML_ENV_AWK="+repoAwk)
			if got := makeArgs(t, copyDir, "run", "ARGS=sleep 1"); !slices.Equal(got, want) {
				t.Errorf("in a built copy, docker gets %q, want %q", got, want)
			}
		})
	}
}
