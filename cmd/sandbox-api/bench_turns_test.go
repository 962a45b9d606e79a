package main

// turnOrder is the order of n steps in round i: the i-th of their n!
// orders, every one in turn, so that over a multiple of n! rounds each
// step comes first as often, and, within a round, follows each other step
// as often. Across the seams between rounds it does not balance who
// follows whom (see pairOrder): it suits rounds whose steps are set apart
// (runInTurns syncs before each).
func turnOrder(n, i int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	// The i-th permutation in the factorial number system.
	for k := 0; k < n; k++ {
		left := n - k
		j := k + i%left
		i /= left
		order[k], order[j] = order[j], order[k]
	}
	return order
}

// pairOrder is an order of n steps to run over and over: read as a cycle,
// it has each step follow each step, itself included, exactly once (a de
// Bruijn sequence of order 2 over the steps; n² long). A step that leaves
// work behind (a daemon tidying after its answer) then slows each of the
// others alike, and each step follows the raw fork/exec as often.
//
// Why not turnOrder's rounds, back to back: their seams are not balanced.
// For 3 steps over 1440 rounds, the third step came right after the first
// 720 times and after the second 480; with 4 steps, the scratch client of
// docs/measured.md's sixth session read the step of the last index 10–20 µs
// slower than an identical daemon at the one before it.
func pairOrder(n int) []int {
	if n <= 1 {
		return make([]int, n)
	}
	// The Lyndon words of length 1 and 2 over n symbols, in order,
	// concatenated (Fredricksen, Kessler and Maiorana).
	order := make([]int, 0, n*n)
	for a := 0; a < n; a++ {
		order = append(order, a)
		for b := a + 1; b < n; b++ {
			order = append(order, a, b)
		}
	}
	return order
}

// pairOrderSteps is the order of rounds runs of each of n steps:
// pairOrder over and over, a step passed over once it has run rounds
// times. Each step runs rounds times; each follows each equally often when
// rounds is a multiple of n (else the last pass is cut short).
func pairOrderSteps(n, rounds int) []int {
	cycle := pairOrder(n)
	runs := make([]int, n)
	steps := make([]int, 0, n*rounds)
	for i := 0; len(steps) < n*rounds; i++ {
		if k := cycle[i%len(cycle)]; runs[k] < rounds {
			runs[k]++
			steps = append(steps, k)
		}
	}
	return steps
}
