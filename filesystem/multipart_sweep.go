package filesystem

import (
	"context"
	"os"
	"time"

	"go.uber.org/zap"
)

// uploadSweepInterval is how often expired uploads are looked for: often
// enough that an upload outlives its TTL by at most a quarter of it.
func uploadSweepInterval(ttl time.Duration) time.Duration {
	return min(max(ttl/4, 10*time.Millisecond), 10*time.Minute)
}

func (u *uploads) sweepLoop(ctx context.Context) {
	defer close(u.done)
	tick := time.NewTicker(uploadSweepInterval(u.ttl))
	defer tick.Stop()
	// The first sweep comes with the first tick, not at once: uploads an
	// earlier daemon left wait at most one interval more, and a start does
	// not list and stat the upload folder while it gets ready to serve.
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		u.sweep()
	}
}

// sweep removes every entry of the upload folder (uploads, and staging
// folders left by a crash) untouched for longer than the TTL. An upload
// folder's modification time moves with each part stored in it.
func (u *uploads) sweep() {
	entries, err := os.ReadDir(u.root)
	if err != nil {
		u.log.Warn("list uploads to expire", zap.Error(err))
		return
	}
	cutoff := time.Now().Add(-u.ttl)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := u.remove(e.Name()); err != nil {
			u.log.Warn("remove an expired upload", zap.String("upload", e.Name()), zap.Error(err))
			continue
		}
		u.log.Info("removed an expired upload", zap.String("upload", e.Name()))
	}
}
