package procs

import (
	"runtime"
	"time"
)

// ForRuntime returns a Governor of the runtime's processor count, which
// package atinit lowered to one as the program initialised (lowered), or
// nil when it did not: GOMAXPROCS set in the environment (the runtime
// keeps what it was told), or a default of one processor already (one
// core, or a container's CPU limit of one). Raising goes back to the
// runtime's default (runtime.SetDefaultGOMAXPROCS), which follows a
// container's CPU limit as it changes; lowering sets one.
func ForRuntime(lowered bool, linger time.Duration) *Governor {
	if !lowered {
		return nil
	}
	// New lowers once more: at one processor already, the runtime returns
	// without stopping the world.
	return New(runtime.SetDefaultGOMAXPROCS, func() { runtime.GOMAXPROCS(1) }, linger,
		func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop })
}
