package process

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"", true}, // generated
		{"web", true},
		{"startup-1", true},
		{"dev server: npm run dev", true},
		{"été-日本", true},
		{strings.Repeat("a", MaxNameBytes), true},
		{strings.Repeat("é", MaxNameBytes/2) + "a", true}, // 255 bytes, 128 runes
		{strings.Repeat("a", MaxNameBytes+1), false},
		{strings.Repeat("é", MaxNameBytes/2+1), false}, // 256 bytes
		{strings.Repeat("a", 1<<20), false},
		{"a/b", false},
		{"../x", false},
		{"/", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\tb", false},
		{"a\x1b[31mred", false},
		{"a\x7f", false},
		{"a\u0085b", false}, // C1 control (NEL)
		{"a\xffb", false},   // not UTF-8
		{"\xc3", false},     // a cut UTF-8 sequence
		{"a\ufffdb", false}, // what a JSON decoder makes of invalid bytes
	}
	for _, c := range cases {
		err := validateName(c.name)
		if c.ok && err != nil {
			t.Errorf("validateName(%.40q): %v, want ok", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("validateName(%.40q) = %v, want ErrInvalidSpec", c.name, err)
		}
	}
}

// TestStartRefusesBadNames checks the manager itself refuses them, so every
// front door (HTTP, MCP, the boot command) gets the same rule, and that a
// refused start runs nothing and keeps no record.
func TestStartRefusesBadNames(t *testing.T) {
	m := newTestManager(t, nil)
	for _, name := range []string{strings.Repeat("n", MaxNameBytes+1), "a/b", "a\nb", "a\xffb"} {
		_, err := m.Start(Spec{Command: "true", Name: name})
		var se *SpecError
		if !errors.As(err, &se) {
			t.Fatalf("Start with name %.40q: %v, want a SpecError", name, err)
		}
		if !strings.HasPrefix(se.Problem, "name ") {
			t.Errorf("problem %q does not say it is the name", se.Problem)
		}
	}
	if n := len(m.List()); n != 0 {
		t.Fatalf("%d records after refused starts, want 0", n)
	}
	p := mustStart(t, m, Spec{Command: "true", Name: strings.Repeat("n", MaxNameBytes)})
	waitEnded(t, p)
}
