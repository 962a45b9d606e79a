//go:build e2eimage

package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// removeEngineState removes everything an engine rooted at dir may have
// left: its dockerd, containerd and shims, its containers' processes, its
// mounts, its files, its bridge and its cgroups. It is the cleanup of a run
// and also the first step of the next one, for a run that crashed or timed
// out. A process is only ever killed by its id once it is known to be ours:
// its command line names dir, or it sits in the engine's cgroup parent.
func removeEngineState(dir string) error {
	var errs []error
	// dockerd first, gracefully: it stops its containers and unmounts.
	if pid := readPid(filepath.Join(dir, "dockerd.pid")); pid > 0 && cmdlineHas(pid, dir) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if !waitGone(pid, engineStopMax) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitGone(pid, testsupport.HangGuard)
		}
	}
	// Then whatever is left: containerd and its shims name dir in their
	// command lines; container processes are in the cgroup parent.
	for _, pid := range pidsWithCmdline(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid, testsupport.HangGuard)
	}
	if err := removeCgroups(engineCgroup); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	if err := deleteBridge(engineBridge); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func cmdlineHas(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte(s))
}

func pidsWithCmdline(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && cmdlineHas(pid, s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitGone waits until pid has exited (gone, or a zombie its parent has not
// reaped yet: it holds nothing any more).
func waitGone(pid int, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// state is the field after the parenthesised command name
		if i := bytes.LastIndexByte(b, ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeCgroups kills every process left in the cgroup parent `name` of
// every mounted hierarchy (v1 controllers and v2), then removes the groups.
func removeCgroups(name string) error {
	var roots []string
	for _, m := range mounts() {
		if m.fstype == "cgroup" || m.fstype == "cgroup2" {
			if _, err := os.Stat(filepath.Join(m.point, name)); err == nil {
				roots = append(roots, filepath.Join(m.point, name))
			}
		}
	}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					waitGone(pid, testsupport.HangGuard)
				}
			}
			return nil
		})
	}
	var errs []error
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // children before parents
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount point inside dir (overlay layers,
// network namespaces, the bind mounts dockerd makes of its own roots),
// deepest first, so the directory can be removed.
func unmountUnder(dir string) error {
	var points []string
	for _, m := range mounts() {
		if m.point == dir || strings.HasPrefix(m.point, dir+"/") {
			points = append(points, m.point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

type mount struct{ point, fstype string }

// mounts reads /proc/self/mountinfo: mount point is field 5, the file
// system type follows the " - " separator.
func mounts() []mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		sep := strings.Index(line, " - ")
		if len(fields) < 5 || sep < 0 {
			continue
		}
		rest := strings.Fields(line[sep+3:])
		if len(rest) == 0 {
			continue
		}
		ms = append(ms, mount{point: unescapeMount(fields[4]), fstype: rest[0]})
	}
	return ms
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space…).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
