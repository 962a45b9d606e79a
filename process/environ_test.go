package process

import (
	"slices"
	"sort"
	"testing"
)

func TestDedupEnv(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, []string{}},
		{"distinct", []string{"A=1", "B=2"}, []string{"A=1", "B=2"}},
		{"the last wins, where it stands", []string{"A=1", "B=2", "A=3"}, []string{"B=2", "A=3"}},
		{"empty values count", []string{"A=1", "A="}, []string{"A="}},
		{"no = is kept", []string{"junk", "A=1", "junk"}, []string{"junk", "A=1", "junk"}},
		{"a value with =", []string{"A=x=y", "B=1", "A=z"}, []string{"B=1", "A=z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dedupEnv(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("dedupEnv(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWithEnv(t *testing.T) {
	base := []string{"HOME=/root", "PATH=/bin", "LANG=C"}
	tests := []struct {
		name  string
		extra map[string]string
		want  []string // sorted
	}{
		{"nothing added", nil, []string{"HOME=/root", "LANG=C", "PATH=/bin"}},
		{"added", map[string]string{"X": "1"}, []string{"HOME=/root", "LANG=C", "PATH=/bin", "X=1"}},
		{"replaced", map[string]string{"PATH": "/usr/bin", "Y": ""}, []string{"HOME=/root", "LANG=C", "PATH=/usr/bin", "Y="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withEnv(base, tt.extra)
			sorted := slices.Clone(got)
			sort.Strings(sorted)
			if !slices.Equal(sorted, tt.want) {
				t.Fatalf("withEnv = %q, want %q", got, tt.want)
			}
			// Appending to the result must never write into base.
			_ = append(got, "Z=1")
			if !slices.Equal(base, []string{"HOME=/root", "PATH=/bin", "LANG=C"}) {
				t.Fatalf("base changed: %q", base)
			}
		})
	}
}
