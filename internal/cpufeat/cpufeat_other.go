//go:build !amd64 || purego

package cpufeat

// detect finds nothing where no assembly of the daemon is built.
func detect() set { return set{} }
