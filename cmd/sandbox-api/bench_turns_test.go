package main

// turnOrder is the order of n steps in round i: the i-th of their n!
// orders, every one in turn, so that over a multiple of n! rounds each
// step comes first, and follows each other step, as often. A step that
// leaves work behind (a daemon tidying after its answer) then slows each
// of the others alike, where a fixed cycle would always hand it to the
// same one.
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
