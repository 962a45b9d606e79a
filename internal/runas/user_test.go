package runas

import (
	"bufio"
	"errors"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// nobody is the passwd entry every Linux system has.
func nobody(t *testing.T) *user.User {
	t.Helper()
	pw, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody here: %v", err)
	}
	return pw
}

func TestLookupForms(t *testing.T) {
	pw := nobody(t)
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)
	for _, spec := range []string{"nobody", pw.Uid} {
		u, err := Lookup(spec)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", spec, err)
		}
		if u.Name != "nobody" || int(u.UID) != uid || int(u.GID) != gid || u.Home != pw.HomeDir {
			t.Errorf("Lookup(%q) = %+v, want nobody %d:%d home %s", spec, u, uid, gid, pw.HomeDir)
		}
		if !slices.Contains(u.Groups, uint32(gid)) {
			t.Errorf("Lookup(%q): groups %v lack the primary group %d", spec, u.Groups, gid)
		}
	}
	// An explicit group replaces the primary one and the supplementary ones,
	// by name or by number.
	for _, spec := range []string{"nobody:root", "nobody:0", pw.Uid + ":0", pw.Uid + ":root"} {
		u, err := Lookup(spec)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", spec, err)
		}
		if int(u.UID) != uid || u.GID != 0 || len(u.Groups) != 0 {
			t.Errorf("Lookup(%q) = %+v, want uid %d, gid 0, no supplementary groups", spec, u, uid)
		}
	}
}

func TestLookupUIDWithoutEntry(t *testing.T) {
	free := 54321
	for {
		if _, err := user.LookupId(strconv.Itoa(free)); err != nil {
			break
		}
		free++
	}
	spec := strconv.Itoa(free)
	u, err := Lookup(spec)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", spec, err)
	}
	if int(u.UID) != free || int(u.GID) != free || u.Home != "/" || u.Name != spec || len(u.Groups) != 0 {
		t.Errorf("Lookup(%q) = %+v, want uid and gid %d, HOME=/, named by its number, no groups", spec, u, free)
	}
	u, err = Lookup(spec + ":7")
	if err != nil || u.GID != 7 {
		t.Errorf("Lookup(%q:7) = %+v, %v; want gid 7", spec, u, err)
	}
}

func TestLookupRefuses(t *testing.T) {
	for _, spec := range []string{"", ":0", "nobody:", "a:b:c", "no-such-user-here", "nobody:no-such-group-here", "4294967295", "-1"} {
		if u, err := Lookup(spec); err == nil {
			t.Errorf("Lookup(%q) = %+v, want an error", spec, u)
		}
	}
	if _, err := Lookup("no-such-user-here"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown user: %v, want ErrUnknown", err)
	}
}

// TestLookupSupplementaryGroups finds a user listed as a member of a group
// in this machine's /etc/group and checks that the group comes with it.
func TestLookupSupplementaryGroups(t *testing.T) {
	f, err := os.Open("/etc/group")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) != 4 || fields[3] == "" {
			continue
		}
		gid, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		member := strings.Split(fields[3], ",")[0]
		if _, err := user.Lookup(member); err != nil {
			continue
		}
		u, err := Lookup(member)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", member, err)
		}
		if !slices.Contains(u.Groups, uint32(gid)) {
			t.Errorf("Lookup(%q).Groups = %v, want %d (%s) among them", member, u.Groups, gid, fields[0])
		}
		return
	}
	t.Skip("no group of this machine lists a member")
}

func TestEnvironAndCredential(t *testing.T) {
	u := &User{Name: "alice", UID: 1000, GID: 1001, Groups: []uint32{1001, 27}, Home: "/home/alice"}
	base := []string{"PATH=/bin", "HOME=/root", "USER=root", "LOGNAME=root", "LANG=C"}
	got := u.Environ(base)
	want := []string{"PATH=/bin", "LANG=C", "HOME=/home/alice", "USER=alice", "LOGNAME=alice"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
	if base[1] != "HOME=/root" {
		t.Error("Environ changed its argument")
	}
	c := u.Credential()
	if c.Uid != 1000 || c.Gid != 1001 || !slices.Equal(c.Groups, []uint32{1001, 27}) || c.NoSetGroups {
		t.Errorf("Credential = %+v", c)
	}
	var none *User
	if none.Credential() != nil || !slices.Equal(none.Environ(base), base) {
		t.Error("a nil user must change nothing")
	}
}
