package entrypoint

// Tests of entrypoint.sh: the real script, run by each POSIX shell it must
// support, starting the real daemon (built once here) and checked over HTTP.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

var (
	// daemonBin is the sandbox-api binary, script the entrypoint under test.
	daemonBin string
	script    string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sandbox-api-entrypoint-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	if script, err = filepath.Abs("entrypoint.sh"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	daemonBin = filepath.Join(dir, "sandbox-api")
	if err := testsupport.GoBuild("", []string{"CGO_ENABLED=0"}, "build", "-o", daemonBin, "../cmd/sandbox-api"); err != nil {
		fmt.Fprintln(os.Stderr, "build the daemon:", err)
		return 1
	}
	return m.Run()
}

// shell is a way to run the script: the shells images have.
type shell struct {
	name string
	argv []string // the interpreter; the script path follows
}

var shells = []shell{
	{"dash", []string{"dash"}},
	{"bash", []string{"bash"}},
	{"busybox", []string{"busybox", "sh"}},
}

// needShell returns the shell's interpreter argv with an absolute path. A
// missing shell fails the test: `make test` installs every one of them
// (scripts/test-setup.sh), and a test skipped for a missing tool would pass
// for a reason that is not the code's.
func needShell(t *testing.T, sh shell) []string {
	t.Helper()
	path, err := exec.LookPath(sh.argv[0])
	if err != nil {
		t.Fatalf("%s is not installed: run make test, which installs it (Debian: apt-get install -y %s)", sh.argv[0], debianPackage(sh.argv[0]))
	}
	return append([]string{path}, sh.argv[1:]...)
}

func debianPackage(cmd string) string {
	if cmd == "busybox" {
		return "busybox-static"
	}
	return cmd
}

// needTool is needShell for the other commands a test needs.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run make test, which installs it (Debian: apt-get install -y %s)", name, debianPackage(name))
	}
	return path
}

// binDir makes a folder of symlinks, name -> target, to be the whole PATH
// of a run: which HTTP tool the script finds is then up to the test.
func binDir(t *testing.T, links map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// basicTools are the commands the script and the tests' commands need
// besides the HTTP tool: the host's own.
func basicTools(t *testing.T) map[string]string {
	t.Helper()
	links := map[string]string{}
	for _, name := range []string{"sleep", "date", "wc", "cat"} {
		links[name] = needTool(t, name)
	}
	return links
}

// withTool returns basicTools plus name -> target.
func withTool(t *testing.T, name, target string) map[string]string {
	links := basicTools(t)
	links[name] = target
	return links
}

// isGNUWget tells whether path is GNU wget rather than busybox's.
func isGNUWget(path string) bool {
	out, _ := exec.Command(path, "--version").Output()
	return strings.Contains(string(out), "GNU Wget")
}
