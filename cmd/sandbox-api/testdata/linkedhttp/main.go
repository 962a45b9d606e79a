// Command linkedhttp is the minimal server of testdata/minhttp linked with
// every package the daemon imports (blank imports: their package
// initialisation runs, their code is in the binary as far as it is
// reached). Beside the minimal server it shows what start-up and idle
// memory cost before the daemon does anything of its own.
//
//	linkedhttp ADDR   listen on ADDR (host:port) and answer /health with 200
package main

import (
	"github.com/sandbox-api/sandbox-api/cmd/sandbox-api/testdata/minserver"

	_ "github.com/sandbox-api/sandbox-api/filesystem"
	_ "github.com/sandbox-api/sandbox-api/internal/connlimit"
	_ "github.com/sandbox-api/sandbox-api/internal/runas"
	_ "github.com/sandbox-api/sandbox-api/network"
	_ "github.com/sandbox-api/sandbox-api/process"
	_ "github.com/sandbox-api/sandbox-api/server"
	_ "github.com/sandbox-api/sandbox-api/terminal"
	_ "github.com/sandbox-api/sandbox-api/watch"
	_ "go.uber.org/zap"
	_ "golang.org/x/sys/unix"
)

func main() { minserver.Main("linkedhttp") }
