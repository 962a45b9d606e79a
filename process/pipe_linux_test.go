package process

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if got := pipeSize(r); got != defaultPipeSize {
		t.Fatalf("a new pipe holds %d bytes, want the default %d", got, defaultPipeSize)
	}
	fd, _ := rawFD(r)
	growPipe(fd)
	if got := pipeSize(w); got != fastPipeSize {
		t.Fatalf("after growPipe the pipe holds %d bytes, want %d", got, fastPipeSize)
	}
}

// childPipeSize is the capacity of the pipe on fd 1 of pid, read through
// /proc (either end of a pipe tells its capacity).
func childPipeSize(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/1", pid), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return pipeSize(f)
}

// TestOutputPipeGrowsForFastWriters: a process that fills its pipe gets a
// larger one; one that prints a line keeps the default, which the kernel
// charges less for.
func TestOutputPipeGrowsForFastWriters(t *testing.T) {
	m := newTestManager(t, nil)
	tests := []struct {
		name, command string
		want          int
	}{
		{"quiet", "echo hi; sleep 30", defaultPipeSize},
		// Writes of 1 MiB fill the 64 KiB pipe whatever the pump's pace.
		{"fast", "dd if=/dev/zero bs=1048576 count=4 2>/dev/null; echo; sleep 30", fastPipeSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustStart(t, m, Spec{Command: "exec sh -c '" + tt.command + "'"})
			killGroupOnCleanup(t, p)
			// Once the output is kept, the pump has seen what it will see:
			// it grows the pipe before it keeps the read that filled it,
			// and the line comes last.
			eventually(t, "output kept", func() bool {
				return strings.Count(logText(t, p.Log(), Stdout), "\n") >= 1
			})
			if got := childPipeSize(t, p.OSPID()); got != tt.want {
				t.Fatalf("stdout pipe holds %d bytes, want %d", got, tt.want)
			}
		})
	}
}

// pipeSize returns the pipe's capacity, 0 when unknown (the daemon only
// ever sets it; tests read it back).
func pipeSize(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var n int
	_ = rc.Control(func(fd uintptr) {
		n, _ = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
	})
	return n
}
