//go:build e2eimage

package e2e

import (
	"fmt"
	"net"
	"time"
)

// Candidate subnets for the private bridge. The first that no interface of
// the machine overlaps is taken, so the bridge never shadows a real network.
var bridgeSubnets = []string{"10.213.77.0/24", "10.213.78.0/24", "172.30.233.0/24", "192.168.233.0/24"}

// createBridge creates the engine's bridge (dockerd --bridge takes an
// existing one; docker0 is left to any other engine) and returns its subnet.
func createBridge(name string) (string, error) {
	subnet, gateway, err := pickSubnet()
	if err != nil {
		return "", err
	}
	for _, args := range [][]string{
		{"link", "add", "name", name, "type", "bridge"},
		{"addr", "add", gateway, "dev", name},
		{"link", "set", name, "up"},
	} {
		if _, err := runCmd(30*time.Second, nil, nil, "ip", args...); err != nil {
			return "", fmt.Errorf("create the engine's bridge: %w", err)
		}
	}
	return subnet, nil
}

func deleteBridge(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil // absent: nothing to do
	}
	_, err := runCmd(30*time.Second, nil, nil, "ip", "link", "del", name)
	return err
}

// pickSubnet returns a free subnet and its gateway (first host, with the
// prefix length, as `ip addr add` wants it).
func pickSubnet() (subnet, gateway string, err error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", "", err
	}
next:
	for _, cidr := range bridgeSubnets {
		_, candidate, _ := net.ParseCIDR(cidr)
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if candidate.Contains(ipn.IP) || ipn.Contains(candidate.IP) {
				continue next
			}
		}
		gw := make(net.IP, len(candidate.IP.To4()))
		copy(gw, candidate.IP.To4())
		gw[3]++
		ones, _ := candidate.Mask.Size()
		return cidr, fmt.Sprintf("%s/%d", gw, ones), nil
	}
	return "", "", fmt.Errorf("every candidate subnet %v overlaps an interface of this machine", bridgeSubnets)
}
