package atinit

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestShouldLower(t *testing.T) {
	for _, tc := range []struct {
		env        string
		processors int
		want       bool
	}{
		{"", 2, true},
		{"", 8, true},
		{"", 1, false}, // one core, or a CPU limit of one
		{"2", 2, false},
		{"1", 1, false},
		{"4", 4, false},
	} {
		if got := shouldLower(tc.env, tc.processors); got != tc.want {
			t.Errorf("shouldLower(%q, %d) = %v, want %v", tc.env, tc.processors, got, tc.want)
		}
	}
}

// helperEnv makes this test binary, run again, report its start instead
// of testing.
const helperEnv = "ATINIT_TEST_REPORT"

// TestReport is the child's side of TestLowersAsTheProgramInitialises: it
// writes Lowered, the count it started with, and the runtime's default.
func TestReport(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return // run by the parent only
	}
	count := runtime.GOMAXPROCS(0)
	runtime.SetDefaultGOMAXPROCS()
	fmt.Printf("report %t %d %d\n", Lowered(), count, runtime.GOMAXPROCS(0))
}

// startReport is what this test binary, started with GOMAXPROCS=env,
// reports of its start (TestReport).
type startReport struct {
	lowered       bool
	count, defalt int
}

func startWith(t *testing.T, env string) startReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReport$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "GOMAXPROCS="+env)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		var r startReport
		if _, err := fmt.Sscanf(line, "report %t %d %d", &r.lowered, &r.count, &r.defalt); err == nil {
			return r
		}
	}
	t.Fatalf("the child wrote no report:\n%s", out)
	return startReport{}
}

func TestLowersAsTheProgramInitialises(t *testing.T) {
	for _, env := range []string{"", "2", "1"} {
		t.Run("GOMAXPROCS="+env, func(t *testing.T) {
			r := startWith(t, env)
			switch told, _ := strconv.Atoi(env); {
			case env != "":
				if r.lowered || r.count != told {
					t.Errorf("lowered %v, count %d; want %d kept", r.lowered, r.count, told)
				}
			case r.defalt > 1:
				if !r.lowered || r.count != 1 {
					t.Errorf("a default of %d: lowered %v, count %d; want lowered to 1", r.defalt, r.lowered, r.count)
				}
			default: // one core, or a CPU limit of one
				if r.lowered || r.count != r.defalt {
					t.Errorf("a default of %d: lowered %v, count %d; want it kept", r.defalt, r.lowered, r.count)
				}
			}
		})
	}
}
