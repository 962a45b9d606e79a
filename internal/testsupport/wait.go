// Package testsupport is what the tests of several packages share: the
// hang-guard policy and the waits built on it, the JSON mirror of a process
// record, and small helpers (request bodies, free ports, /proc readings,
// building a binary). Only tests import it; production code must not.
package testsupport

import (
	"testing"
	"time"
)

// HangGuard is the one bound on every wait of the Go tests for an event: a
// process ending, a line on a stream, a listener coming up, an answer to a
// request. It only turns a hang into a failure; no test asserts that
// something happens within a time. It is minutes long because the tests run
// beside other work on small machines (`make test` passes with two
// CPU-bound loops beside it on 2 cores), where a step that takes 10 ms alone
// can take seconds. A test that needs to know that something did NOT happen
// makes a second, known change after the act and waits for that one
// (a sentinel) instead of waiting a while.
const HangGuard = 3 * time.Minute

// pollEvery is how often Eventually checks its condition.
const pollEvery = 10 * time.Millisecond

// Eventually polls cond until it returns true, and fails the test with the
// last message cond gave once HangGuard has passed.
func Eventually(t testing.TB, cond func() (ok bool, msg string)) {
	t.Helper()
	deadline := time.Now().Add(HangGuard)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the hang guard (%s): %s", HangGuard, msg)
			return
		}
		time.Sleep(pollEvery)
	}
}

// Until is Eventually for a condition with a fixed description.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Eventually(t, func() (bool, string) { return cond(), "never: " + what })
}

// Receive waits for a value on ch under HangGuard; what names the event in
// the failure. A closed channel gives the zero value.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(HangGuard)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("after the hang guard (%s): never: %s", HangGuard, what)
		var zero T
		return zero
	}
}
