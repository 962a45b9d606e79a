package network

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// treePIDs returns root and its descendants. It follows the kernel's
// per-thread children lists, which costs a few reads for a small tree
// instead of a read of every /proc/<pid>/stat; without CONFIG_PROC_CHILDREN
// it falls back to the ppid links.
func treePIDs(procRoot string, root int) ([]int, error) {
	out := []int{root}
	seen := map[int]bool{root: true}
	for i := 0; i < len(out); i++ {
		kids, ok := childrenOf(procRoot, out[i])
		if !ok {
			parents, err := parentLinks(procRoot)
			if err != nil {
				return nil, err
			}
			return descendants(root, parents), nil
		}
		for _, k := range kids {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// childrenOf reads /proc/<pid>/task/*/children; ok is false when the kernel
// has no such file. A process gone meanwhile has no children.
func childrenOf(procRoot string, pid int) (kids []int, ok bool) {
	taskDir := procRoot + "/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(taskDir)
	if err != nil {
		return nil, true
	}
	for _, t := range tasks {
		data, err := os.ReadFile(taskDir + "/" + t.Name() + "/children")
		if errors.Is(err, fs.ErrNotExist) {
			if _, statErr := os.Stat(taskDir + "/" + t.Name()); statErr == nil {
				return nil, false // the task exists, the file does not
			}
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, true
}

// treeSockets maps the inode of every socket the tree holds to its holder.
func treeSockets(procRoot string, root int) (map[uint64]int, error) {
	inodes := map[uint64]int{}
	if root <= 0 {
		return inodes, nil
	}
	pids, err := treePIDs(procRoot, root)
	if err != nil {
		return nil, err
	}
	for _, pid := range pids {
		socketInodes(procRoot, pid, inodes)
	}
	return inodes, nil
}
