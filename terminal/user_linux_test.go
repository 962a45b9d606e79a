package terminal

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/runas"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func nobodyTerminals(t *testing.T) (*Manager, *runas.User) {
	t.Helper()
	u := testsupport.Nobody(t)
	return newTestManager(t, Config{User: u}), u
}

func TestShellRunsAsTheUser(t *testing.T) {
	m, u := nobodyTerminals(t)
	s, c := attach(t, m, Options{WorkingDir: "/"})
	// The marker is built by the shell so that the echoed input cannot match.
	if err := s.Write(t.Context(), []byte(`echo "id-$(id -u):$(id -g)|$HOME|$USER|$LOGNAME|$(stat -c %u "$(tty)")-end-$((6*7))"`+"\n")); err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(int(u.UID))
	want := "id-" + uid + ":" + strconv.Itoa(int(u.GID)) + "|" + u.Home + "|nobody|nobody|" + uid + "-end-42"
	out := readUntil(t, c, "-end-42")
	if !strings.Contains(out, want) {
		t.Errorf("shell output %q lacks %q (uid:gid|HOME|USER|LOGNAME|owner of its terminal)", out, want)
	}
}

func TestShellWorkingDirIsLookedUpAsTheUser(t *testing.T) {
	m, _ := nobodyTerminals(t)
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Attach(Options{WorkingDir: private}); err == nil {
		t.Fatal("a shell started in a folder its user cannot enter")
	} else if !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("error %v, want the invalid working directory", err)
	}
	// Nothing was left behind.
	if n := len(m.List()); n != 0 {
		t.Errorf("%d sessions after a refused start", n)
	}
}
