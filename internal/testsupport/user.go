package testsupport

import (
	"os"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Nobody is the user nobody, for the tests of running as another user. They
// need root to switch users: elsewhere they are skipped, saying why.
func Nobody(t testing.TB) *runas.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	u, err := runas.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	return u
}
