package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandbox-api/sandbox-api/process"
)

func TestTakeLogDir(t *testing.T) {
	root := t.TempDir()
	// A path under a regular file can never be created, even by root.
	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	unusable := filepath.Join(blocker, "logs")
	usable := func(name string) string { return filepath.Join(root, name, "nested") }
	// A folder an earlier version of the daemon used: its lock file is
	// there, let go of.
	restarted := usable("restarted")
	if err := os.MkdirAll(restarted, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restarted, process.LockFileName), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A folder another daemon holds: taken, so no fallback either.
	held := usable("held")
	if err := os.MkdirAll(held, 0o700); err != nil {
		t.Fatal(err)
	}
	holder, err := process.LockLogDir(held)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	// A folder that refuses new files: immutable (a read-only mount says
	// EROFS the same way, and a folder of another user EACCES).
	immutable := usable("immutable")
	makeImmutable(t, immutable)

	tests := []struct {
		name         string
		explicit     string
		preferred    string
		fallback     string
		wantDir      string
		wantFellBack bool
		wantErr      error // nil: any error when wantDir is ""
	}{
		{name: "explicit wins", explicit: usable("explicit"), preferred: usable("preferred"), fallback: usable("fallback"), wantDir: usable("explicit")},
		{name: "explicit unusable fails", explicit: unusable, preferred: usable("p2"), fallback: usable("f2")},
		{name: "explicit used before", explicit: restarted, preferred: usable("p5"), fallback: usable("f5"), wantDir: restarted},
		{name: "explicit held by another daemon fails", explicit: held, preferred: usable("p6"), fallback: usable("f6"), wantErr: process.ErrLogDirLocked},
		{name: "preferred when usable", preferred: usable("p3"), fallback: usable("f3"), wantDir: usable("p3")},
		{name: "fallback when preferred unusable", preferred: unusable, fallback: usable("f4"), wantDir: usable("f4"), wantFellBack: true},
		{name: "preferred held by another daemon fails, no fallback", preferred: held, fallback: usable("f7"), wantErr: process.ErrLogDirLocked},
		{name: "both unusable fails", preferred: unusable, fallback: unusable},
		{name: "explicit that takes no files fails", explicit: immutable, preferred: usable("p8"), fallback: usable("f8")},
		{name: "fallback when preferred takes no files", preferred: immutable, fallback: usable("f9"), wantDir: usable("f9"), wantFellBack: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, lock, fellBack, err := takeLogDir(tt.explicit, tt.preferred, tt.fallback)
			if tt.wantDir == "" {
				if err == nil {
					lock.Close()
					t.Fatalf("takeLogDir = %q, want an error", dir)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("takeLogDir: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("takeLogDir: %v", err)
			}
			defer lock.Close()
			if dir != tt.wantDir || fellBack != tt.wantFellBack {
				t.Errorf("takeLogDir = (%q, %v), want (%q, %v)", dir, fellBack, tt.wantDir, tt.wantFellBack)
			}
			// Held: a second daemon on the folder is refused.
			if again, err := process.LockLogDir(dir); !errors.Is(err, process.ErrLogDirLocked) {
				again.Close()
				t.Errorf("a second lock of %s: %v, want ErrLogDirLocked", dir, err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("read %s: %v", dir, err)
			}
			names := []string{}
			for _, e := range entries {
				names = append(names, e.Name())
			}
			want := []string{} // the lock is the folder's own, and nothing probes it
			if dir == restarted {
				want = []string{process.LockFileName}
			}
			if !slices.Equal(names, want) {
				t.Errorf("%s holds %v, want %v", dir, names, want)
			}
		})
	}
}

// fsImmutableFlag is FS_IMMUTABLE_FL of linux/fs.h, which x/sys/unix
// does not name.
const fsImmutableFlag = 0x00000010

// makeImmutable creates dir with the immutable flag (chattr +i), which
// refuses every new entry even to root, and clears the flag at the end of
// the test so that its folder can be removed.
func makeImmutable(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatalf("read the flags of %s (the test needs a file system with chattr flags, as ext4): %v", dir, err)
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsImmutableFlag)); err != nil {
		t.Fatalf("make %s immutable (the test runs as root, on a file system with chattr flags): %v", dir, err)
	}
	t.Cleanup(func() {
		g, err := os.Open(dir)
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Close()
		if err := unix.IoctlSetPointerInt(int(g.Fd()), unix.FS_IOC_SETFLAGS, int(flags)); err != nil {
			t.Errorf("clear the immutable flag of %s: %v", dir, err)
		}
	})
}
