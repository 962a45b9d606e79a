package server

import "testing"

func TestCompleteUTF8(t *testing.T) {
	euro := []byte("€") // three bytes
	for _, tc := range []struct {
		name string
		in   []byte
		want int
	}{
		{"empty", nil, 0},
		{"ascii", []byte("abc"), 3},
		{"whole rune", append([]byte("a"), euro...), 4},
		{"one byte of three", append([]byte("a"), euro[0]), 1},
		{"two bytes of three", append([]byte("a"), euro[:2]...), 1},
		{"invalid byte kept", []byte{'a', 0xff}, 2},
	} {
		if got := completeUTF8(tc.in); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTermSide(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    uint16
		wantErr bool
	}{
		{"", 0, false},
		{"80", 80, false},
		{"1000", 1000, false},
		{"0", 0, true},
		{"1001", 0, true},
		{"-3", 0, true},
		{"x", 0, true},
	} {
		got, err := termSide(tc.in, "cols")
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%q: %d, %v", tc.in, got, err)
		}
	}
}
