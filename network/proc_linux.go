package network

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parentLinks maps every live pid to its parent, from /proc/<pid>/stat.
func parentLinks(procRoot string) (map[int]int, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", procRoot, err)
	}
	parents := make(map[int]int, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(procRoot + "/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// comm may hold spaces and parentheses: fields start after the last ')'.
		j := bytes.LastIndexByte(data, ')')
		if j < 0 {
			continue
		}
		f := bytes.Fields(data[j+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(string(f[1])); err == nil {
			parents[pid] = ppid
		}
	}
	return parents, nil
}

// descendants returns root and every process below it.
func descendants(root int, parents map[int]int) []int {
	children := map[int][]int{}
	for pid, ppid := range parents {
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// socketInodes adds to set the inodes of the sockets pid holds open.
func socketInodes(procRoot string, pid int, set map[uint64]int) {
	dir := procRoot + "/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // exited, or not ours to read
	}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(link[len("socket:["):], "]"), 10, 64); err == nil {
			if _, seen := set[n]; !seen {
				set[n] = pid
			}
		}
	}
}

// comm is a process's short name.
func comm(procRoot string, pid int) string {
	data, err := os.ReadFile(procRoot + "/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// alive tells whether procfs has the process pid.
func alive(procRoot string, pid int) bool {
	if pid <= 0 {
		return false
	}
	_, err := os.Stat(procRoot + "/" + strconv.Itoa(pid))
	return err == nil
}
