package entrypoint

// Startup commands: naming, order, skipping, the working directory, and
// commands that survive the trip through JSON built by a shell.

import (
	"strings"
	"testing"
)

// forEachShell runs f as a parallel subtest per shell.
func forEachShell(t *testing.T, f func(t *testing.T, sh []string)) {
	for _, s := range shells {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f(t, needShell(t, s))
		})
	}
}

// curlPath is a PATH with curl as the HTTP tool.
func curlPath(t *testing.T) string {
	return binDir(t, withTool(t, "curl", needTool(t, "curl")))
}

func TestStartupCommandsAreNamedAndStartedInOrder(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{
			shell: sh,
			path:  curlPath(t),
			env: map[string]string{"SANDBOX_STARTUP": "\n# a comment: echo no\n   \n" +
				"\techo one\n" +
				"  web: sleep 30  \r\n" + // blanks and a CR around a line are ignored
				"echo three\n" +
				"  # an indented comment\n" +
				"echo a: b\n" + // "echo a" is not a NAME: the line is a command
				"last.name_2-x:   printf '%s\\n' named\n"},
			args: []string{"echo", "main", "ran"},
		})
		r.ended("main")

		want := []proc{
			{Name: "startup-1", Command: "echo one"},
			{Name: "web", Command: "sleep 30"},
			{Name: "startup-3", Command: "echo three"},
			{Name: "startup-4", Command: "echo a: b"},
			{Name: "last.name_2-x", Command: "printf '%s\\n' named"},
			{Name: "main", Command: "echo main ran"},
		}
		got := r.processes()
		if len(got) != len(want) {
			t.Fatalf("processes: got %+v, want %+v", got, want)
		}
		for i, w := range want {
			if got[i].Name != w.Name || got[i].Command != w.Command {
				t.Errorf("process %d: got %q %q, want %q %q", i, got[i].Name, got[i].Command, w.Name, w.Command)
			}
			if got[i].WorkingDir != r.dir {
				t.Errorf("process %s: workingDir %q, want the entrypoint's %q", got[i].Name, got[i].WorkingDir, r.dir)
			}
		}
		for name, out := range map[string]string{
			"startup-1": "one\n", "startup-3": "three\n", "startup-4": "a: b\n",
			"last.name_2-x": "named\n", "main": "main ran\n",
		} {
			if p := r.ended(name); p.Status != "completed" {
				t.Errorf("%s: status %s", name, p.Status)
			}
			if got := r.stdout(name); got != out {
				t.Errorf("%s: stdout %q, want %q", name, got, out)
			}
		}
		if p := processNamed(got, "web"); p.Status != "running" {
			t.Errorf("web: status %s, want running", p.Status)
		}
		r.waitStderr("entrypoint: started web: sleep 30\n")
	})
}

func TestNoStartupCommands(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{shell: sh, path: curlPath(t)})
		r.waitStderr("entrypoint: sandbox-api is ready on " + r.url + " (checked with curl)\n")
		if got := r.processes(); len(got) != 0 {
			t.Fatalf("processes without SANDBOX_STARTUP nor arguments: %+v", got)
		}
	})
}

func TestCommandsSurviveJSONEscaping(t *testing.T) {
	// Quotes, backslashes, $, backquotes, a tab, a control character and
	// UTF-8 in a SANDBOX_STARTUP line; a newline inside an argument.
	line := "printf '%s\\n' \"q\\\"uote\" 'back\\slash' '$HOME `x`' \"tab\tin\" 'é✓日本' '\x1b'"
	args := []string{"printf", "'<%s>\\n'", "\"two\nlines\"", `'x"y\z'`, `\$PWD`, `"\\"`}
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{
			shell: sh,
			path:  curlPath(t),
			env:   map[string]string{"SANDBOX_STARTUP": "tricky: " + line},
			args:  args,
		})
		for name, w := range map[string]struct{ command, stdout string }{
			"tricky": {line, "q\"uote\nback\\slash\n$HOME `x`\ntab\tin\né✓日本\n\x1b\n"},
			"main":   {strings.Join(args, " "), "<two\nlines>\n<x\"y\\z>\n<$PWD>\n<\\>\n"},
		} {
			p := r.ended(name)
			if p.Command != w.command {
				t.Errorf("%s: command %q, want %q", name, p.Command, w.command)
			}
			if got := r.stdout(name); got != w.stdout {
				t.Errorf("%s: stdout %q, want %q", name, got, w.stdout)
			}
		}
	})
}

func processNamed(list []proc, name string) proc {
	for _, p := range list {
		if p.Name == name {
			return p
		}
	}
	return proc{}
}
