package listeners

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// Reading /proc/net/tcp walks the kernel's whole connection hash, which
// costs milliseconds of CPU per read on hosts with a large table. A
// sock_diag netlink dump asked for LISTEN sockets only walks the listening
// hash, so the monitors' idle polling stays cheap. /proc stays the fallback.

const (
	netlinkSockDiag  = 4  // NETLINK_SOCK_DIAG
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	tcpfListen       = 1 << 10
	diagReqLen       = 72 // nlmsghdr (16) + inet_diag_req_v2 (56)
	diagMsgLen       = 72 // inet_diag_msg
)

// diagBufs spares each poll tick a fresh receive buffer.
var diagBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// FromDiag dumps the TCP LISTEN sockets of both families.
func FromDiag() ([]Listener, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return nil, fmt.Errorf("open sock_diag socket: %w", err)
	}
	defer syscall.Close(fd)
	var out []Listener
	bp := diagBufs.Get().(*[]byte)
	defer diagBufs.Put(bp)
	buf := *bp
	for _, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		if err := syscall.Sendto(fd, diagRequest(family), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return nil, fmt.Errorf("send sock_diag request: %w", err)
		}
		ls, err := readDiagDump(fd, buf, family == syscall.AF_INET6)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

func diagRequest(family uint8) []byte {
	req := make([]byte, diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], diagReqLen)
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	req[16] = family
	req[17] = syscall.IPPROTO_TCP
	ne.PutUint32(req[20:], tcpfListen)
	return req
}

func readDiagDump(fd int, buf []byte, v6 bool) ([]Listener, error) {
	var out []Listener
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("read sock_diag dump: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("parse sock_diag dump: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return out, nil
			case syscall.NLMSG_ERROR:
				return nil, diagError(m.Data)
			}
			if l, ok := parseDiagMsg(m.Data, v6); ok {
				out = append(out, l)
			}
		}
	}
}

// parseDiagMsg reads an inet_diag_msg: ports and addresses are big endian,
// the inode native.
func parseDiagMsg(d []byte, v6 bool) (Listener, bool) {
	if len(d) < diagMsgLen {
		return Listener{}, false
	}
	port := binary.BigEndian.Uint16(d[4:6])
	var ip net.IP
	if v6 {
		ip = net.IP(append([]byte(nil), d[8:24]...))
	} else {
		ip = net.IP(append([]byte(nil), d[8:12]...))
	}
	inode := binary.NativeEndian.Uint32(d[68:72])
	return Listener{Port: int(port), Address: ip.String(), IPv6: v6, Inode: uint64(inode)}, true
}

// diagError reads the errno of an NLMSG_ERROR.
func diagError(d []byte) error {
	if len(d) < 4 {
		return fmt.Errorf("sock_diag dump refused")
	}
	errno := -int32(binary.NativeEndian.Uint32(d[:4]))
	return fmt.Errorf("sock_diag dump refused: %w", syscall.Errno(errno))
}
