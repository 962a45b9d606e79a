package process

import (
	"os/exec"
	"testing"
	"time"
)

// BenchmarkStartWait: a process started and waited for through the manager
// (pipes, log, reaper, record), beside the same command run with os/exec
// in the same loop. The difference is the manager's own cost per process.
func BenchmarkStartWait(b *testing.B) {
	m := newTestManager(b, nil)
	shell := m.cfg.Shell
	var managed, raw time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		p, err := m.Start(Spec{Command: "true"})
		if err != nil {
			b.Fatal(err)
		}
		<-p.Done()
		managed += time.Since(start)

		start = time.Now()
		if err := exec.Command(shell, "-c", "true").Run(); err != nil {
			b.Fatal(err)
		}
		raw += time.Since(start)
	}
	b.ReportMetric(float64(managed.Microseconds())/float64(b.N), "managed-µs/op")
	b.ReportMetric(float64(raw.Microseconds())/float64(b.N), "raw-µs/op")
	b.ReportMetric(float64((managed-raw).Microseconds())/float64(b.N), "overhead-µs/op")
}
