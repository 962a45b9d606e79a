// Package atinit lowers the daemon's processor count (GOMAXPROCS) to one
// as the program initialises, before most packages' initialisation runs.
// Package procs then governs the count from there (procs.ForRuntime).
//
// Why at initialisation and not first thing in main: the runtime starts
// with one processor per core, and by the time main runs, the main
// goroutine has often moved to the second one (9 starts in 12 here), whose
// cache of memory spans then holds what every package's initialisation
// allocated. Lowering the count then frees that cache: each of its spans
// goes back to a span set of the heap that nothing had touched yet, some 66
// page faults on this VM's start-up path. Lowered here, after only a dozen
// small packages initialised, a start took about 60 page faults and
// 0.27–0.73 ms less in the same rounds as the build before
// (docs/measured.md).
//
// Only the daemon imports this package: any program that does runs on one
// processor from here on, so the daemon's black-box tests, which import
// the daemon, give their own process its default count back
// (cmd/sandbox-api/daemon_test.go).
//
// It imports only runtime and syscall, which keeps it early in the order
// of initialisation (a package initialises once what it imports has).
package atinit

import (
	"runtime"
	"syscall"
)

// lowered is set once, as the package initialises, and never changes.
var lowered = lowerUnlessTold()

// Lowered is whether initialisation lowered the count to one: false when
// GOMAXPROCS is set in the environment (the runtime keeps what it was
// told) or the runtime's default was one processor already (one core, or
// a container's CPU limit of one).
func Lowered() bool { return lowered }

func lowerUnlessTold() bool {
	env, _ := syscall.Getenv("GOMAXPROCS")
	if !shouldLower(env, runtime.GOMAXPROCS(0)) {
		return false
	}
	runtime.GOMAXPROCS(1)
	return true
}

// shouldLower is whether a start with GOMAXPROCS=env in its environment
// and the runtime's count of processors lowers that count. An empty
// value is the runtime's default, as for the runtime itself.
func shouldLower(env string, processors int) bool {
	return env == "" && processors > 1
}
