package imagebuilder

import (
	"strings"
	"testing"
)

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		img  Image
		want string
	}{
		{"apt injection", base.AptInstall("git; rm -rf /"), "invalid package name"},
		{"apt option", base.AptInstall("--allow-unauthenticated"), "invalid package name"},
		{"pip subshell", base.PipInstall("$(id)"), "invalid package name"},
		{"npm empty", base.NpmInstall(), "no package"},
		{"apk quote", base.ApkInstall("a'b"), "invalid package name"},
		{"port zero", base.Expose(0), "out of range"},
		{"port high", base.Expose(65536), "out of range"},
		{"workdir relative", base.Workdir("app"), "invalid path"},
		{"workdir newline", base.Workdir("/app\nRUN id"), "invalid path"},
		{"workdir unclean", base.Workdir("/app/../etc"), "invalid path"},
		{"workdir variable", base.Workdir("/app/$HOME"), "invalid path"},
		{"workdir escape", base.Workdir(`/app\x`), "invalid path"},
		{"workdir tab", base.Workdir("/app\tx"), "invalid path"},
		{"copy dest variable", base.Copy("testdata/src", "/srv/${X}"), "invalid path"},
		{"copy dest relative", base.Copy("testdata/src", "src"), "invalid path"},
		{"env name", base.Env(map[string]string{"A B": "x"}), "invalid name"},
		{"env newline", base.Env(map[string]string{"A": "x\nRUN id"}), "multi-line"},
		{"run newline", base.Run("true\nRUN id"), "multi-line"},
		{"user space", base.User("root x"), "invalid user"},
		{"entrypoint empty", base.Entrypoint(), "no argument"},
		{"ref", FromRegistry("bad ref\nRUN id"), "invalid image reference"},
		{"memory", base.WithMemory(0), "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.img.Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err() = %v, want containing %q", err, tt.want)
			}
			if _, werr := tt.img.Write(t.TempDir(), "x"); werr == nil {
				t.Error("Write accepted an invalid image")
			}
		})
	}
}

// Errors accumulate: every bad step is reported, not only the first.
func TestErrorsCollected(t *testing.T) {
	err := base.AptInstall("a;b").Expose(0).Err()
	if err == nil || !strings.Contains(err.Error(), "package") || !strings.Contains(err.Error(), "port") {
		t.Fatalf("Err() = %v, want both errors", err)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"git", "git"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
		{"$(id)", "'$(id)'"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
