// Package testdisk gives tests a small disk of their own, to drive the
// full-disk paths (ENOSPC) for real. Only tests import it.
package testdisk

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Small mounts a tmpfs of size (like "1m") on a fresh folder and unmounts
// it when the test ends. Where mounting is not allowed (not root, no
// CAP_SYS_ADMIN) the test is skipped with the reason; CI runs as root.
func Small(t testing.TB, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot mount a %s tmpfs here (%v): the full-disk path needs CAP_SYS_ADMIN", size, err)
		}
		t.Fatalf("mount a %s tmpfs: %v", size, err)
	}
	// Lazily, so that a file a failed test left open cannot keep it busy.
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}
