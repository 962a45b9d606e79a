package server

import "github.com/sandbox-api/sandbox-api/network"

// portJSON is one listening socket in the existing daemon's shape, which
// clients read (localPort, processName); family is ours. A listening socket
// has no peer, so remoteAddr and remotePort are always empty.
type portJSON struct {
	PID         int    `json:"pid"` // the process holding the socket
	Protocol    string `json:"protocol"`
	LocalAddr   string `json:"localAddr"`
	LocalPort   int    `json:"localPort"`
	RemoteAddr  string `json:"remoteAddr"`
	RemotePort  int    `json:"remotePort"`
	State       string `json:"state"`
	ProcessName string `json:"processName"`
	Family      string `json:"family"`
}

func wirePort(p network.Port) portJSON {
	return portJSON{PID: p.OwnerPID, Protocol: p.Protocol, LocalAddr: p.Address, LocalPort: p.Port,
		State: "LISTEN", ProcessName: p.OwnerName, Family: p.Family()}
}

// processPortsJSON answers GET /network/process/{pid}/ports; pid is a
// number there, as the existing daemon writes it.
type processPortsJSON struct {
	PID   int        `json:"pid"`
	Ports []portJSON `json:"ports"`
}

// openPortJSON is an item of GET /network/ports: the socket, and the
// process the daemon started that holds it (null for others).
type openPortJSON struct {
	portJSON
	Process *managedRefJSON `json:"process"`
}

type managedRefJSON struct {
	PID  string `json:"pid"`
	Name string `json:"name"`
}

type allPortsJSON struct {
	Ports []openPortJSON `json:"ports"`
}
