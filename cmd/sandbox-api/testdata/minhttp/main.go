// Command minhttp is the physical baseline of the start-up and idle-memory
// benchmarks: the smallest net/http server that answers GET /health, started
// and polled exactly as the daemon is.
//
//	minhttp ADDR   listen on ADDR (host:port) and answer /health with 200
package main

import "github.com/sandbox-api/sandbox-api/cmd/sandbox-api/testdata/minserver"

func main() { minserver.Main("minhttp") }
