//go:build !linux

package runas

import "errors"

// errUnsupported: only Linux has per-thread file system identities.
var errUnsupported = errors.New("acting as another user is only supported on Linux")

// Enter is the daemon's own identity only: Check refuses any other user.
func (u *User) Enter() (leave func()) {
	if u != nil {
		panic(errUnsupported)
	}
	return func() {}
}

// Check refuses any user but the daemon's own.
func (u *User) Check() error {
	if u != nil {
		return errUnsupported
	}
	return nil
}
