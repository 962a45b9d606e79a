package network

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// tcpListen is the kernel's code for LISTEN in /proc/net/tcp.
const tcpListen = "0A"

// Listener is one listening TCP socket of the network namespace.
type Listener struct {
	Port    int
	Address string // textual IP the socket is bound to
	IPv6    bool
	Inode   uint64
}

// readListeners returns the LISTEN sockets of this network namespace:
// from sock_diag when procRoot is the real /proc, else (or when netlink is
// refused) from /proc/net/tcp and tcp6.
func readListeners(procRoot string) ([]Listener, error) {
	if procRoot == "/proc" {
		if ls, err := diagListeners(); err == nil {
			return ls, nil
		}
	}
	return procListeners(procRoot)
}

func procListeners(procRoot string) ([]Listener, error) {
	var out []Listener
	for _, name := range []string{"tcp", "tcp6"} {
		path := procRoot + "/net/" + name
		ls, err := parseTCPTable(path, name == "tcp6")
		if err != nil {
			if os.IsNotExist(err) {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

func parseTCPTable(path string, v6 bool) ([]Listener, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Listener
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 10 || string(fields[3]) != tcpListen {
			continue
		}
		l, ok := parseLocal(string(fields[1]), v6)
		if !ok {
			continue
		}
		inode, err := strconv.ParseUint(string(fields[9]), 10, 64)
		if err != nil {
			continue
		}
		l.Inode = inode
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// parseLocal decodes "ADDR:PORT" in hex; the address is in the kernel's
// byte order, one little-endian 32-bit word at a time.
func parseLocal(s string, v6 bool) (Listener, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Listener{}, false
	}
	port, err := strconv.ParseUint(s[i+1:], 16, 16)
	if err != nil {
		return Listener{}, false
	}
	raw, err := hex.DecodeString(s[:i])
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return Listener{}, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	return Listener{Port: int(port), Address: ip.String(), IPv6: v6}, true
}

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
