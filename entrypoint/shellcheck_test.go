package entrypoint

// shellcheck as POSIX sh catches what no shell here would complain about:
// bashisms busybox might accept, quoting slips. The script is clean; every
// exception is a justified directive inside it.

import (
	"os/exec"
	"testing"
)

func TestShellcheck(t *testing.T) {
	path := needTool(t, "shellcheck")
	out, err := exec.Command(path, "--shell=sh", "--severity=info", script).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}
