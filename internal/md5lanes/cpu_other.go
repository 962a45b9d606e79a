//go:build !amd64 || purego

package md5lanes

// lanesWork is false where no lane kernel is built: every stream is
// hashed on its own by crypto/md5.
func lanesWork() bool { return false }

func blocks8(*[4][8]uint32, *[8]*byte, int) {
	panic("md5lanes: no lane kernel on this platform")
}
