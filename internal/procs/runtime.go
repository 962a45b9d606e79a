package procs

import (
	"os"
	"runtime"
	"time"
)

// ForRuntime returns a Governor of the runtime's processor count, lowered
// to one at once (call it before anything else runs), or nil when there
// is nothing to govern: GOMAXPROCS set in the environment (the runtime
// keeps what it was told), or a default of one processor already (one
// core, or a container's CPU limit of one). Raising goes back to the
// runtime's default (runtime.SetDefaultGOMAXPROCS), which follows a
// container's CPU limit as it changes; lowering sets one.
func ForRuntime(linger time.Duration) *Governor {
	if os.Getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) <= 1 {
		return nil
	}
	return New(runtime.SetDefaultGOMAXPROCS, func() { runtime.GOMAXPROCS(1) }, linger,
		func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop })
}
