package network

import (
	"sort"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
)

// ManagedRef names the managed process whose tree holds a socket.
type ManagedRef struct {
	PID  string
	Name string
}

// OpenPort is a listening socket of the container with its owner.
type OpenPort struct {
	Port
	Process *ManagedRef // nil when the daemon did not start the owner
}

// AllPorts lists every listening TCP socket of the container. Sockets whose
// owner cannot be read (another user's process) have OwnerPID 0.
func (s *Service) AllPorts() ([]OpenPort, error) {
	ls, err := listeners.Read(s.cfg.ProcRoot)
	if err != nil {
		return nil, err
	}
	out := []OpenPort{}
	if len(ls) == 0 {
		return out, nil
	}
	parents, err := parentLinks(s.cfg.ProcRoot)
	if err != nil {
		return nil, err
	}
	inodes := map[uint64]int{}
	for pid := range parents {
		socketInodes(s.cfg.ProcRoot, pid, inodes)
	}
	roots := map[int]ManagedRef{}
	if s.cfg.Processes != nil {
		for _, p := range s.cfg.Processes.List() {
			if root := p.OSPID(); root > 0 {
				roots[root] = ManagedRef{PID: p.PID(), Name: p.Name()}
			}
		}
	}
	for _, l := range ls {
		owner := inodes[l.Inode]
		op := OpenPort{Port: portOf(s.cfg.ProcRoot, l, owner)}
		if owner > 0 {
			op.Process = managedAncestor(owner, parents, roots)
		}
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool { return portLess(out[i].Port, out[j].Port) })
	return out, nil
}

// managedAncestor walks up the parent links to the first managed root.
func managedAncestor(pid int, parents map[int]int, roots map[int]ManagedRef) *ManagedRef {
	for steps := 0; pid > 1 && steps < 4096; steps++ {
		if ref, ok := roots[pid]; ok {
			return &ref
		}
		pid = parents[pid]
	}
	return nil
}
