package upgrade

import (
	"regexp"
	"strings"
	"testing"
)

// TestIsVersionName checks the hand-written rule against the regular
// expression it replaced, on names at and around its edges.
func TestIsVersionName(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"v1.2.3", true},
		{"latest", true},
		{"1", true},
		{"V_2+build-3", true},
		{"a" + strings.Repeat("-", 127), true},
		{"a" + strings.Repeat("-", 128), false},
		{"", false},
		{"-v1", false},
		{".v1", false},
		{"../v2", false},
		{"v1/2", false},
		{"v1 2", false},
		{"v1%2F", false},
		{"v1\n", false},
		{"vé", false},
		{"v1?x=1", false},
	} {
		if got := isVersionName(tc.name); got != tc.want {
			t.Errorf("isVersionName(%q) = %v, want %v", tc.name, got, tc.want)
		}
		if rule.MatchString(tc.name) != tc.want {
			t.Errorf("the table is wrong about %q: the regular expression says %v", tc.name, !tc.want)
		}
	}
}

// FuzzIsVersionName holds the hand-written rule to the regular expression
// on any input.
func FuzzIsVersionName(f *testing.F) {
	rule := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)
	for _, s := range []string{"v1.2.3", "-x", "a/b", strings.Repeat("z", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isVersionName(s), rule.MatchString(s); got != want {
			t.Fatalf("isVersionName(%q) = %v, the regular expression says %v", s, got, want)
		}
	})
}
