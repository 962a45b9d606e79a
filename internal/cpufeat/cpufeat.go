// Package cpufeat tells which vector instructions this CPU and its OS run,
// for the few loops of the daemon written in assembly (internal/md5lanes,
// internal/formdata). It asks CPUID on first use, not at package
// initialization as golang.org/x/sys/cpu does: under a hypervisor each
// CPUID is an exit to it, which every start of the daemon would pay before
// its first answer.
package cpufeat

import "sync"

// AVX2 reports whether AVX2 runs here: the CPU has it and the OS saves
// the Y registers.
func AVX2() bool { return features().avx2 }

// AVX512VL reports whether AVX-512F with AVX-512VL runs here (the EVEX
// forms on Y registers, and Y16 to Y31): the CPU has them and the OS saves
// the opmask and upper Z registers.
func AVX512VL() bool { return features().avx512vl }

type set struct{ avx2, avx512vl bool }

var features = sync.OnceValue(detect)
