package atinit

import (
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
	os.Stdout.WriteString("report " + strconv.FormatBool(Lowered()) + " " + strconv.Itoa(count) + " " + strconv.Itoa(runtime.GOMAXPROCS(0)) + "\n")
}

func TestLowersAsTheProgramInitialises(t *testing.T) {
	for _, tc := range []struct {
		name, env string
	}{
		{"default", ""},
		{"told two", "2"},
		{"told one", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestReport$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "GOMAXPROCS="+tc.env)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var lowered bool
			var count, def int
			line := ""
			for l := range strings.Lines(string(out)) {
				if strings.HasPrefix(l, "report ") {
					line = strings.TrimSpace(l)
				}
			}
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Fatalf("child wrote no report:\n%s", out)
			}
			lowered, _ = strconv.ParseBool(f[1])
			count, _ = strconv.Atoi(f[2])
			def, _ = strconv.Atoi(f[3])
			switch {
			case tc.env == "" && def > 1:
				if !lowered || count != 1 {
					t.Errorf("default of %d processors: lowered %v, count %d; want lowered to 1", def, lowered, count)
				}
			case tc.env == "":
				if lowered || count != def {
					t.Errorf("default of %d processor: lowered %v, count %d; want it kept", def, lowered, count)
				}
			default:
				want, _ := strconv.Atoi(tc.env)
				if lowered || count != want {
					t.Errorf("GOMAXPROCS=%s: lowered %v, count %d; want %d kept", tc.env, lowered, count, want)
				}
			}
		})
	}
}
