package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// FileInfo describes one file or folder the way the API reports it.
type FileInfo struct {
	Path    string // absolute
	Name    string
	Mode    fs.FileMode // permission and special bits (see FormatPermissions)
	Size    int64
	ModTime time.Time
	Owner   string // user name, or the numeric uid when it has none
	Group   string // group name, or the numeric gid
	// IsDir is true for a folder, and for a symbolic link to one: clients
	// list and open it like a folder.
	IsDir bool
}

// Permissions is the mode as the API writes it (see FormatPermissions).
func (i FileInfo) Permissions() string { return FormatPermissions(i.Mode) }

// FormatPermissions writes a mode in octal without a leading zero, as the
// existing daemon does ("644", "755"; "1777" for a sticky folder): clients
// compare the string. PUT takes this form back.
func FormatPermissions(m fs.FileMode) string {
	return strconv.FormatUint(uint64(unixMode(m)), 8)
}

// unixMode is the classic 12-bit mode of m: setuid, setgid, sticky, rwx×3.
func unixMode(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// fileMode is the inverse of unixMode.
func fileMode(v uint32) fs.FileMode {
	m := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// ErrInvalidPermissions: a mode that is not 1 to 4 octal digits.
var ErrInvalidPermissions = errors.New("invalid permissions")

// ParsePermissions reads an octal mode such as "0644", "755" or "1777"
// (an optional "0o" prefix is accepted).
func ParsePermissions(s string) (fs.FileMode, error) {
	digits := s
	if len(digits) > 2 && (digits[:2] == "0o" || digits[:2] == "0O") {
		digits = digits[2:]
	}
	if len(digits) == 0 || len(digits) > 4 {
		return 0, fmt.Errorf("%w %q: want an octal mode such as 0644", ErrInvalidPermissions, s)
	}
	v, err := strconv.ParseUint(digits, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("%w %q: want an octal mode such as 0644", ErrInvalidPermissions, s)
	}
	return fileMode(uint32(v)), nil
}

// idNames turns uids and gids into names. It lives for one call (a listing,
// a tree): os/user reads /etc/passwd on every lookup, and a folder of 10,000
// files usually has one owner.
type idNames struct {
	users  map[uint32]string
	groups map[uint32]string
}

func newIDNames() *idNames {
	return &idNames{users: map[uint32]string{}, groups: map[uint32]string{}}
}

func (n *idNames) user(uid uint32) string {
	if name, ok := n.users[uid]; ok {
		return name
	}
	id := strconv.FormatUint(uint64(uid), 10)
	name := id
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		name = u.Username
	}
	n.users[uid] = name
	return name
}

func (n *idNames) group(gid uint32) string {
	if name, ok := n.groups[gid]; ok {
		return name
	}
	id := strconv.FormatUint(uint64(gid), 10)
	name := id
	if g, err := user.LookupGroupId(id); err == nil && g.Name != "" {
		name = g.Name
	}
	n.groups[gid] = name
	return name
}

// describe builds the FileInfo of path from its Lstat result. A symbolic
// link is described by its target (size, mode, kind) when the target
// exists, and as itself when it dangles.
func (n *idNames) describe(path string, lst fs.FileInfo) FileInfo {
	fi := lst
	if lst.Mode()&fs.ModeSymlink != 0 {
		if target, err := os.Stat(path); err == nil {
			fi = target
		}
	}
	info := FileInfo{
		Path:    path,
		Name:    filepath.Base(path),
		Mode:    fi.Mode(),
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
		IsDir:   fi.IsDir(),
	}
	if uid, gid, ok := ownerIDs(fi); ok {
		info.Owner = n.user(uid)
		info.Group = n.group(gid)
	}
	return info
}
