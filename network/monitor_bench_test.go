package network

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
)

// The idle cost of a monitor is one listenersChanged per tick (a sock_diag
// dump of LISTEN sockets). Baselines: the same table read through
// /proc/net/tcp{,6} (the fallback where netlink is refused), which walks
// the kernel's whole connection hash, and a tick after a change (table
// read plus tree walk). cpu-ns/op is user+system CPU; at the
// 150 ms interval a monitor's idle share of one CPU is cpu-ns/op / 150e6.

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchCPU(b *testing.B, f func() error) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkIdleTick(b *testing.B) {
	_, last, _, err := listenersChanged("/proc", nil)
	if err != nil {
		b.Fatal(err)
	}
	benchCPU(b, func() error {
		_, _, _, err := listenersChanged("/proc", last)
		return err
	})
}

func BenchmarkBaselineProcTable(b *testing.B) {
	benchCPU(b, func() error {
		_, err := listeners.FromProc("/proc")
		return err
	})
}

// BenchmarkChangedTick is a tick after the tree gained a socket: the tree
// walk plus a listener-table read.
func BenchmarkChangedTick(b *testing.B) {
	s := New(Config{})
	benchCPU(b, func() error {
		inodes, err := treeSockets("/proc", os.Getpid())
		if err != nil {
			return err
		}
		inodes[0] = 0 // never a real socket: forces the table read
		_, err = s.portsOf(inodes)
		return err
	})
}
