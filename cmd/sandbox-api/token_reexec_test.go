package main

import (
	"io"
	"os"
	"testing"
)

// tokenMayReexec must say yes whenever secureToken would execute the
// daemon again: a signal registered before that would be lost. A no is
// only an early start of the signals' registration.
func TestTokenMayReexec(t *testing.T) {
	cases := []struct {
		name      string
		env       map[string]string
		args      []string
		mayReexec bool
	}{
		{"nothing", nil, []string{"-p", "8080"}, false},
		{"token in the environment", map[string]string{envToken: "s3cret"}, nil, true},
		{"blank token in the environment", map[string]string{envToken: "  "}, nil, false},
		{"--token flag", nil, []string{"--token", "s3cret"}, true},
		{"-token= flag", nil, []string{"-token=s3cret"}, true},
		{"--token-file (conservative)", nil, []string{"--token-file", "/run/token"}, true},
		{"the image after the re-execution", map[string]string{envTokenFD: "3", envToken: "s3cret"}, []string{"--token", "x"}, false},
		{"a value that mentions a token", nil, []string{"--log-dir", "/tmp/tokens"}, false},
		{"--token after other flags", nil, []string{"-p", "9000", "--host", "127.0.0.1", "--token=x"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(envToken, "")
			t.Setenv(envTokenFD, "") // restored after the test
			_ = os.Unsetenv(envTokenFD)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			got := tokenMayReexec(c.args)
			if got != c.mayReexec {
				t.Errorf("tokenMayReexec(%q) with %v = %v, want %v", c.args, c.env, got, c.mayReexec)
			}
			// And never a no where the parsed flags want the re-execution.
			if cfg, err := parseFlags(c.args, os.Getenv, io.Discard); err == nil && reexecWanted(cfg) && !got {
				t.Errorf("tokenMayReexec(%q) with %v says no, but secureToken would execute the daemon again", c.args, c.env)
			}
		})
	}
}
