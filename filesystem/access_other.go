//go:build !linux

package filesystem

// mayWrite leaves the decision to the write: only Linux acts as a user.
func mayWrite(string) bool { return true }
