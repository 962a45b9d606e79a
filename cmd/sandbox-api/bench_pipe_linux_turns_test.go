package main

import (
	"fmt"
	"testing"
)

// TestRunInTurnsEveryOrder: over n! rounds, runInTurns runs n steps in
// every order once (turnOrder), so each step follows each other as often.
func TestRunInTurnsEveryOrder(t *testing.T) {
	for n, rounds := range map[int]int{2: 2, 3: 6, 4: 24} {
		seen := map[string]bool{}
		for i := 0; i < rounds; i++ {
			var order []int
			steps := make([]func(), n)
			for k := range steps {
				steps[k] = func() { order = append(order, k) }
			}
			runInTurns(steps, i)
			if len(order) != n {
				t.Fatalf("%d steps, round %d: ran %v", n, i, order)
			}
			seen[fmt.Sprint(order)] = true
		}
		if len(seen) != rounds {
			t.Errorf("%d steps over %d rounds: %d orders, want every one: %v", n, rounds, len(seen), seen)
		}
	}
}
