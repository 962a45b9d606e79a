// Package listeners reads the listening TCP sockets of the network
// namespace, for the network package (ports per process) and the process
// package (waitForPorts). It is a leaf so that both can share it.
package listeners

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

// Read returns the LISTEN sockets of this network namespace:
// from sock_diag when procRoot is the real /proc, else (or when netlink is
// refused) from /proc/net/tcp and tcp6.
func Read(procRoot string) ([]Listener, error) {
	if procRoot == "/proc" {
		if ls, err := FromDiag(); err == nil {
			return ls, nil
		}
	}
	return FromProc(procRoot)
}

// FromProc parses procRoot/net/tcp and tcp6.
func FromProc(procRoot string) ([]Listener, error) {
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
