package process

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/runas"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// nobodyManager is a manager whose processes run as nobody; it needs root.
func nobodyManager(t *testing.T) (*Manager, *runas.User) {
	t.Helper()
	u := testsupport.Nobody(t)
	m := newTestManager(t, func(c *Config) {
		c.User = u
		c.WorkingDir = "/"
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/root", "USER=root", "LOGNAME=root"}
	})
	return m, u
}

func TestProcessesRunAsTheUser(t *testing.T) {
	m, u := nobodyManager(t)
	p := mustStart(t, m, Spec{
		Command: `echo "$(id -u) $(id -g) $(id -G)|$HOME|$USER|$LOGNAME|$EXTRA"`,
		// A request may set any variable; none of them makes it root.
		Env: map[string]string{"EXTRA": "x"},
	})
	if info := waitEnded(t, p); info.Status != StatusCompleted {
		t.Fatalf("status %s: %q", info.Status, logText(t, p.Log(), Both))
	}
	groups := make([]string, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, strconv.Itoa(int(g)))
	}
	want := strconv.Itoa(int(u.UID)) + " " + strconv.Itoa(int(u.GID)) + " " + strings.Join(groups, " ") +
		"|" + u.Home + "|nobody|nobody|x\n"
	if got := logText(t, p.Log(), Stdout); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestProcessEnvCannotAskForRoot(t *testing.T) {
	m, u := nobodyManager(t)
	p := mustStart(t, m, Spec{Command: "id -u", Env: map[string]string{"USER": "root", "HOME": "/root", "UID": "0"}})
	waitEnded(t, p)
	if got := logText(t, p.Log(), Stdout); got != strconv.Itoa(int(u.UID))+"\n" {
		t.Errorf("id -u with USER=root in the request: %q, want nobody's uid", got)
	}
}

// A working directory is looked up as the user: inside a folder the user
// cannot enter, an existing folder and a missing one are refused alike, so
// the answer tells nothing of what the folder holds; one it can enter is
// used.
func TestProcessWorkingDirIsTheUsers(t *testing.T) {
	m, _ := nobodyManager(t)
	private := filepath.Join(t.TempDir(), "private")
	if err := os.MkdirAll(filepath.Join(private, "existing"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"existing", "missing"} {
		_, err := m.Start(Spec{Command: "pwd", WorkingDir: filepath.Join(private, dir)})
		if !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("folder %s inside a folder nobody cannot enter: %v, want ErrStart for permission denied", dir, err)
		}
	}
	p := mustStart(t, m, Spec{Command: "pwd", WorkingDir: "/tmp"})
	waitEnded(t, p)
	if got := logText(t, p.Log(), Stdout); got != "/tmp\n" {
		t.Errorf("pwd in /tmp: %q", got)
	}
}
