package main

import "testing"

// TestPairOrderFollowsEachOnce: read as a cycle, pairOrder has every
// ordered pair of steps, a step and itself included, exactly once.
func TestPairOrderFollowsEachOnce(t *testing.T) {
	for n := 1; n <= 6; n++ {
		order := pairOrder(n)
		if len(order) != n*n {
			t.Fatalf("%d steps: order %v, want %d long", n, order, n*n)
		}
		seen := map[[2]int]int{}
		for i, k := range order {
			if k < 0 || k >= n {
				t.Fatalf("%d steps: step %d in %v", n, k, order)
			}
			seen[[2]int{order[(i+len(order)-1)%len(order)], k}]++
		}
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				if seen[[2]int{a, b}] != 1 {
					t.Errorf("%d steps: %d follows %d %d times in %v, want once", n, b, a, seen[[2]int{a, b}], order)
				}
			}
		}
	}
}

// TestPairOrderStepsBalanced: over rounds that are a multiple of n, every
// step runs rounds times and follows each step equally often, the seams
// between passes included; turnOrder's rounds back to back do not.
func TestPairOrderStepsBalanced(t *testing.T) {
	tests := []struct{ n, rounds int }{{2, 10}, {3, 1440}, {4, 1440}, {4, 180}, {3, 7}, {4, 1}}
	for _, tt := range tests {
		steps := pairOrderSteps(tt.n, tt.rounds)
		runs := make([]int, tt.n)
		follows := map[[2]int]int{}
		for i, k := range steps {
			runs[k]++
			if i > 0 {
				follows[[2]int{steps[i-1], k}]++
			}
		}
		for k, got := range runs {
			if got != tt.rounds {
				t.Errorf("%d steps, %d rounds: step %d ran %d times", tt.n, tt.rounds, k, got)
			}
		}
		// n×rounds steps make n×rounds-1 pairs: one pair (the seam that a
		// next pass would close) is one short.
		want := tt.rounds / tt.n
		if tt.rounds%tt.n != 0 {
			continue // each step ran rounds times; the last pass was cut short
		}
		for a := 0; a < tt.n; a++ {
			for b := 0; b < tt.n; b++ {
				if got := follows[[2]int{a, b}]; got != want && got != want-1 {
					t.Errorf("%d steps, %d rounds: %d follows %d %d times, want %d", tt.n, tt.rounds, b, a, got, want)
				}
			}
		}
	}
	// The imbalance pairOrder removes: turnOrder's rounds back to back.
	var seq []int
	for i := 0; i < 1440; i++ {
		seq = append(seq, turnOrder(3, i)...)
	}
	afterFirst, afterSecond := 0, 0
	for i := 1; i < len(seq); i++ {
		if seq[i] == 2 && seq[i-1] == 0 {
			afterFirst++
		}
		if seq[i] == 2 && seq[i-1] == 1 {
			afterSecond++
		}
	}
	if afterFirst == afterSecond {
		t.Errorf("turnOrder back to back: the third step followed the first and the second %d times each; the imbalance this order was made for is gone", afterFirst)
	}
}
