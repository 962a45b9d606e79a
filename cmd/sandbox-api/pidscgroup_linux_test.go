package main

// A pids cgroup for one test: the limit a container's runtime puts on the
// tasks (processes and threads) of everything inside it. Root ignores
// `ulimit -u`, but not pids.max.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pidsCgroup is a child cgroup of the pids controller, made for one test.
type pidsCgroup struct {
	dir string
}

var pidsCgroupSeq atomic.Int64 // names the cgroups of parallel tests apart

// newPidsCgroup makes a pids cgroup that allows max tasks, nested in this
// test process's own (cgroup v2, or the v1 pids hierarchy), and removes it
// when the test ends: register it before the daemon that joins it, so that
// the daemon has exited by then. The error says why none can be made.
func newPidsCgroup(t *testing.T, max int) (*pidsCgroup, error) {
	t.Helper()
	parent, err := ownPidsCgroup()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, fmt.Sprintf("sandbox-api-test-%d-%d", os.Getpid(), pidsCgroupSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make a child cgroup: %w", err)
	}
	cg := &pidsCgroup{dir: dir}
	t.Cleanup(cg.remove)
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(max)), 0); err != nil {
		return nil, fmt.Errorf("set pids.max: %w", err)
	}
	return cg, nil
}

// ownPidsCgroup finds the folder of this process's cgroup that has a pids
// controller to nest a child in.
func ownPidsCgroup() (string, error) {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var tried []string
	for _, line := range strings.Split(string(mounts), "\n") {
		// id parent dev root mountpoint opts [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		mountPoint := f[4]
		switch {
		case g[0] == "cgroup" && hasOption(g[2], "pids"):
			if path, ok := cgroupPath(string(own), "pids"); ok {
				return filepath.Join(mountPoint, path), nil
			}
		case g[0] == "cgroup2":
			path, ok := cgroupPath(string(own), "")
			if !ok {
				continue
			}
			dir := filepath.Join(mountPoint, path)
			if err := enablePids(dir); err != nil {
				tried = append(tried, err.Error())
				continue
			}
			return dir, nil
		}
	}
	if len(tried) == 0 {
		tried = append(tried, "no cgroup hierarchy with a pids controller is mounted")
	}
	return "", errors.New(strings.Join(tried, "; "))
}

// enablePids makes the pids controller available to children of the cgroup
// v2 folder dir.
func enablePids(dir string) error {
	ctl, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("cgroup v2 at %s: %w", dir, err)
	}
	if !hasWord(string(ctl), "pids") {
		return fmt.Errorf("cgroup v2 at %s offers no pids controller (controllers: %q)", dir, strings.TrimSpace(string(ctl)))
	}
	sub, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if hasWord(string(sub), "pids") {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+pids"), 0); err != nil {
		return fmt.Errorf("enable pids for the children of %s: %w", dir, err)
	}
	return nil
}

// cgroupPath is this process's path in the hierarchy of controller ("" for
// cgroup v2) according to /proc/self/cgroup.
func cgroupPath(own, controller string) (string, bool) {
	for _, line := range strings.Split(own, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if controller == "" && parts[0] == "0" && parts[1] == "" {
			return parts[2], true
		}
		if controller != "" && hasOption(parts[1], controller) {
			return parts[2], true
		}
	}
	return "", false
}

func hasOption(opts, name string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == name {
			return true
		}
	}
	return false
}

func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if w == word {
			return true
		}
	}
	return false
}

// add moves the process pid, with all its threads, into the cgroup; its
// future children are born there.
func (cg *pidsCgroup) add(pid int) error {
	if err := os.WriteFile(filepath.Join(cg.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("move pid %d into %s: %w", pid, cg.dir, err)
	}
	return nil
}

// refused is how many forks and thread creations the limit has refused.
func (cg *pidsCgroup) refused(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cg.dir, "pids.events"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "max "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				t.Fatalf("pids.events %q: %v", b, err)
			}
			return n
		}
	}
	t.Fatalf("no max line in pids.events %q", b)
	return 0
}

// peak is the most tasks the cgroup has held at once, where the kernel
// keeps it (pids.peak, Linux 6.1+); -1 otherwise.
func (cg *pidsCgroup) peak() int {
	b, err := os.ReadFile(filepath.Join(cg.dir, "pids.peak"))
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// remove deletes the cgroup once its last task has gone (a process that
// was killed leaves it a moment after its parent saw it exit).
func (cg *pidsCgroup) remove() {
	deadline := time.Now().Add(hangGuard)
	for {
		err := os.Remove(cg.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
