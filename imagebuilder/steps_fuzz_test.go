package imagebuilder

import (
	"strings"
	"testing"
)

// shellWord reads back one word written by shellQuote, the way /bin/sh
// would: single-quoted runs are literal, a backslash outside quotes escapes
// one character. ok is false if the word holds anything the shell would
// act on (an unquoted metacharacter, blank or expansion).
func shellWord(w string) (string, bool) {
	var out strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == '\'':
			j := strings.IndexByte(w[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			out.WriteString(w[i+1 : i+1+j])
			i += j + 1
		case c == '\\' && i+1 < len(w):
			out.WriteByte(w[i+1])
			i++
		case strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+:@/=-,", c) >= 0:
			out.WriteByte(c)
		default:
			return "", false
		}
	}
	return out.String(), true
}

// FuzzStepValues: a value accepted by a step stays inside that step. The
// Dockerfile keeps its number of lines and has no control character, a
// package name comes back from the shell as exactly itself, and a container
// path holds nothing WORKDIR or COPY would expand.
func FuzzStepValues(f *testing.F) {
	for _, s := range []string{"git", "requests==2.31", "@scope/pkg@1", "pkg>=1.0", "a'b", "a\nRUN id", "$(id)",
		"/app", "/app/$HOME", `/a\b`, "/my app", "root", "1000:1000", "echo hi", "x\x00y", "\t", "é"} {
		f.Add(s)
	}
	base := FromRegistry("debian:bookworm-slim")
	baseLines := strings.Count(base.Dockerfile(), "\n")
	f.Fuzz(func(t *testing.T, v string) {
		steps := map[string]Image{
			"apt": base.AptInstall(v), "apk": base.ApkInstall(v), "pip": base.PipInstall(v), "npm": base.NpmInstall(v),
			"workdir": base.Workdir(v), "user": base.User(v), "run": base.Run(v),
			"env value": base.Env(map[string]string{"K": v}), "env name": base.Env(map[string]string{v: "x"}),
			"copy dest": base.Copy("testdata/src", v), "entrypoint": base.Entrypoint(v, v), "cmd": base.Cmd(v),
		}
		for name, img := range steps {
			if img.Err() != nil {
				continue
			}
			df := img.Dockerfile()
			want := baseLines + 1
			if name == "entrypoint" {
				want -= 2 // no entrypoint.sh lines
			}
			if got := strings.Count(df, "\n"); got != want {
				t.Fatalf("%s(%q): %d lines, want %d:\n%s", name, v, got, want, df)
			}
			if i := strings.IndexFunc(df, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }); i >= 0 {
				t.Fatalf("%s(%q): control character %q in the Dockerfile:\n%s", name, v, df[i], df)
			}
			switch name {
			case "apt", "apk", "pip", "npm":
				if got, ok := shellWord(shellQuote(v)); !ok || got != v {
					t.Fatalf("%s(%q): the shell reads %q (ok %v)", name, v, got, ok)
				}
			case "workdir", "copy dest":
				if strings.ContainsAny(v, `$\`) {
					t.Fatalf("%s(%q) accepted a path WORKDIR or COPY would expand", name, v)
				}
			}
		}
	})
}
