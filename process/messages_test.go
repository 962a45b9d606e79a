package process

import (
	"errors"
	"testing"
	"time"
)

// TestSpecErrorProblem: a refused request says what is wrong in Problem,
// without the generic prefix, so that the HTTP API can word it its way,
// and still matches ErrInvalidSpec.
func TestSpecErrorProblem(t *testing.T) {
	m := newTestManager(t, nil)
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Command: " "}, "command is required"},
		{Spec{Command: "a\x00b"}, "command contains a NUL byte"},
		{Spec{Command: "true", WorkingDir: "/tmp\x00"}, "workingDir contains a NUL byte"},
		{Spec{Command: "true", Env: map[string]string{"A=B": "x"}}, `invalid environment variable name "A=B"`},
	} {
		_, err := m.Start(tc.spec)
		var se *SpecError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSpec) || se.Problem != tc.want {
			t.Errorf("Start(%q) = %v; want a SpecError %q", tc.spec.Command, err, tc.want)
		}
	}
	for _, err := range []error{ValidatePorts([]int{0}), func() error { _, err := TimeoutSeconds(-1); return err }()} {
		var se *SpecError
		if !errors.As(err, &se) || se.Problem == "" {
			t.Errorf("%v is not a SpecError with a problem", err)
		}
	}
}

func TestDurationText(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "1 seconds"}, // the existing daemon's words, which clients match
		{90 * time.Second, "90 seconds"},
		{50 * time.Millisecond, "50ms"},
		{1500 * time.Millisecond, "1.5s"},
	} {
		if got := durationText(tc.d); got != tc.want {
			t.Errorf("durationText(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
