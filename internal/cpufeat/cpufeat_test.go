//go:build amd64 && !purego

package cpufeat

import (
	"os"
	"strings"
	"testing"
)

// What CPUID and XCR0 tell agrees with the kernel's list of the CPU's
// flags (which the kernel shows only for features it enabled).
func TestFeaturesAgreeWithProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err) // Linux always has it
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(info), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(value) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Fatal("no flags line in /proc/cpuinfo")
	}
	if got, want := AVX2(), flags["avx2"]; got != want {
		t.Errorf("AVX2() = %v, /proc/cpuinfo says %v", got, want)
	}
	if got, want := AVX512VL(), flags["avx512f"] && flags["avx512vl"]; got != want {
		t.Errorf("AVX512VL() = %v, /proc/cpuinfo says %v", got, want)
	}
}
