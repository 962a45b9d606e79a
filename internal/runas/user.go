// Package runas is the user the daemon runs its workload as (--user): the
// daemon stays root, while the processes it starts, its terminal shells and
// the file operations of the API act as that user.
//
// Processes and shells get the user's credentials when they start
// (Credential, Environ). File operations cannot: they run inside the
// daemon. They take the user's file system identity on the OS thread that
// performs them instead (Enter, fsid_linux.go): setfsuid, setfsgid and
// setgroups change only the calling thread, so one request works as the
// user while the others, on other threads, keep the daemon's identity. The
// kernel then checks permissions, ACLs and ownership exactly as it would for
// the user's own processes, and what the API creates belongs to the user. A
// helper process running as the user was the other design: it would have
// needed a protocol for every file operation and fd passing for reads and
// watches, for the same checks.
//
// Users and groups are looked up in /etc/passwd and /etc/group directly:
// the daemon is a static binary, so os/user reads the files, without NSS.
//
// Linux only, like the whole daemon: no other kernel has per-thread file
// system identities.
package runas

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// ErrUnknown is wrapped by Lookup for a name the databases do not have.
var ErrUnknown = errors.New("no such user or group")

// User is the identity the workload runs with. A nil *User means the
// daemon's own identity: every method then changes nothing.
type User struct {
	Name string // login name; the uid in decimal when the passwd database has no entry
	UID  uint32
	GID  uint32
	// Groups are the supplementary groups: the user's groups in the group
	// database when the spec named no group, none when it did (as Docker
	// does).
	Groups []uint32
	Home   string // from the passwd database; "/" without an entry
}

// Lookup resolves a user given in Docker's USER syntax: "name", "uid",
// "name:group", "uid:gid" (and the mixed forms). A numeric uid need not
// have a passwd entry: it then gets HOME=/ and, unless a group is given,
// the gid equal to the uid (Docker would give group 0, root's; the
// workload is never handed root's group unless the operator writes :0).
func Lookup(spec string) (*User, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	if name == "" || (hasGroup && group == "") || strings.Contains(group, ":") {
		return nil, fmt.Errorf("user %q: want name, uid, name:group or uid:gid", spec)
	}
	u, err := lookupUser(name)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", spec, err)
	}
	if hasGroup {
		gid, err := lookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", spec, err)
		}
		u.GID, u.Groups = gid, nil
	}
	return u, nil
}

// lookupUser finds name (or a uid) in the passwd database, with its
// supplementary groups.
func lookupUser(name string) (*User, error) {
	uid, numeric := parseID(name)
	var (
		pw  *user.User
		err error
	)
	if numeric {
		pw, err = user.LookupId(name)
	} else {
		pw, err = user.Lookup(name)
	}
	var unknownID user.UnknownUserIdError
	switch {
	case numeric && errors.As(err, &unknownID):
		// Docker runs any uid; without an entry there is no name or home.
		return &User{Name: name, UID: uid, GID: uid, Home: "/"}, nil
	case errors.As(err, new(user.UnknownUserError)):
		return nil, fmt.Errorf("%w: no user %q in /etc/passwd", ErrUnknown, name)
	case err != nil:
		return nil, fmt.Errorf("look up user %s: %w", name, err)
	}
	u := &User{Name: pw.Username, Home: pw.HomeDir}
	var ok bool
	if u.UID, ok = parseID(pw.Uid); !ok {
		return nil, fmt.Errorf("user %s: invalid uid %q in /etc/passwd", name, pw.Uid)
	}
	if u.GID, ok = parseID(pw.Gid); !ok {
		return nil, fmt.Errorf("user %s: invalid gid %q in /etc/passwd", name, pw.Gid)
	}
	if u.Home == "" {
		u.Home = "/"
	}
	ids, err := pw.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", name, err)
	}
	for _, s := range ids {
		if g, ok := parseID(s); ok && !containsID(u.Groups, g) {
			u.Groups = append(u.Groups, g)
		}
	}
	return u, nil
}

// lookupGroup finds a group by name, or takes a gid as is.
func lookupGroup(group string) (uint32, error) {
	if gid, ok := parseID(group); ok {
		return gid, nil
	}
	g, err := user.LookupGroup(group)
	if errors.As(err, new(user.UnknownGroupError)) {
		return 0, fmt.Errorf("%w: no group %q in /etc/group", ErrUnknown, group)
	}
	if err != nil {
		return 0, fmt.Errorf("look up group %s: %w", group, err)
	}
	gid, ok := parseID(g.Gid)
	if !ok {
		return 0, fmt.Errorf("group %s: invalid gid %q in /etc/group", group, g.Gid)
	}
	return gid, nil
}

// parseID reads a uid or gid. 2³²-1 is -1 to the kernel ("unchanged"), so
// it is no id.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// String names the user as id(1) would: "nobody (65534:65534)".
func (u *User) String() string {
	if u == nil {
		return "the daemon's own user"
	}
	return fmt.Sprintf("%s (%d:%d)", u.Name, u.UID, u.GID)
}

// Credential is what a child process starts with: the user's uid, gid and
// supplementary groups. nil for the daemon's own identity.
func (u *User) Credential() *syscall.Credential {
	if u == nil {
		return nil
	}
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: append([]uint32{}, u.Groups...)}
}

// Environ is base with HOME, USER and LOGNAME set to the user's, as a login
// would set them. base itself is not changed.
func (u *User) Environ(base []string) []string {
	if u == nil {
		return base
	}
	env := make([]string, 0, len(base)+3)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if k != "HOME" && k != "USER" && k != "LOGNAME" {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+u.Home, "USER="+u.Name, "LOGNAME="+u.Name)
}
