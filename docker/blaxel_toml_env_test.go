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
