package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestWithoutFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("token", "", "")
	fs.String("c", "", "")
	fs.Bool("b", false, "")
	tests := []struct{ args, want []string }{
		{[]string{"--token", "x", "-c", "cmd"}, []string{"-c", "cmd"}},
		{[]string{"-token=x", "-b"}, []string{"-b"}},
		{[]string{"--token=x"}, []string{}},
		// A value that looks like the flag is a value.
		{[]string{"-c", "--token", "--token", "y"}, []string{"-c", "--token"}},
		{[]string{"-c", "-token=x"}, []string{"-c", "-token=x"}},
		// A boolean takes no value: what follows is the next flag.
		{[]string{"-b", "--token", "x", "-b=false"}, []string{"-b", "-b=false"}},
		// The token may be set twice; both go.
		{[]string{"--token", "a", "--token", "b"}, []string{}},
		// Parsing stops at "--".
		{[]string{"--", "--token", "x"}, []string{"--", "--token", "x"}},
	}
	for _, tt := range tests {
		got, dropped := withoutFlag(fs, tt.args, "token")
		if !slices.Equal(got, tt.want) {
			t.Errorf("withoutFlag(%q) = %q, want %q", tt.args, got, tt.want)
		}
		if wantDropped := len(got) != len(tt.args); dropped != wantDropped {
			t.Errorf("withoutFlag(%q) dropped = %v", tt.args, dropped)
		}
	}
}

func TestParseFlagsTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == envToken {
			return "from-env"
		}
		return ""
	}
	c, err := parseFlags([]string{"--token-file", path}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "from-file" || c.access.tokenFile != path || c.access.tokenInArgs || !c.access.argsChanged || c.access.argsShown != "" {
		t.Errorf("--token-file: token %q, file %q, token in args %v; want the file's token, trailing newline dropped, and none in the arguments", c.token, c.access.tokenFile, c.access.tokenInArgs)
	}
	c, err = parseFlags([]string{"-p", "1", "--token", "secret", "-c", "--token"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.access.tokenInArgs || c.access.argsShown != "-p\x001\x00-c\x00--token" || c.command != "--token" {
		t.Errorf("--token: token in args %v, shown %q, command %q", c.access.tokenInArgs, c.access.argsShown, c.command)
	}
}

func TestParseFlagsRejectsAccess(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "token twice", args: []string{"--token", "a", "--token-file", empty}, wantErr: "one way"},
		{name: "empty token file", args: []string{"--token-file", empty}, wantErr: "is empty"},
		{name: "missing token file", args: []string{"--token-file", empty + "-missing"}, wantErr: "no such file"},
		{name: "token file without path", args: []string{"--token-file="}, wantErr: "path is required"},
		{name: "unknown user", args: []string{"--user", "no-such-user-here"}, wantErr: "--user"},
		{name: "bad user syntax", args: []string{"--user", "a:b:c"}, wantErr: "--user"},
		{name: "env user enabled without a user", env: map[string]string{envUserEnabled: "true"}, wantErr: envUser},
		{name: "env user enabled garbage", env: map[string]string{envUserEnabled: "yes please"}, wantErr: envUserEnabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseFlags(%q) error = %v, want it to mention %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestParseFlagsUser(t *testing.T) {
	env := map[string]string{envUser: "nobody", envUserEnabled: "true"}
	getenv := func(k string) string { return env[k] }
	c, err := parseFlags(nil, getenv, io.Discard)
	if err != nil {
		t.Skipf("no user nobody here? %v", err)
	}
	if c.access.user == nil || c.access.user.Name != "nobody" {
		t.Errorf("$%s=nobody with $%s=true: user %v", envUser, envUserEnabled, c.access.user)
	}
	env[envUserEnabled] = "false"
	if c, _ := parseFlags(nil, getenv, io.Discard); c.access.user != nil {
		t.Errorf("$%s=false: user %v, want none", envUserEnabled, c.access.user)
	}
	env[envUserEnabled] = "true"
	c, err = parseFlags([]string{"--user", "0:0"}, getenv, io.Discard)
	if err != nil || c.access.user == nil || c.access.user.UID != 0 {
		t.Errorf("--user beats $%s: %v, %v", envUser, c.access.user, err)
	}
}
