package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// unshippedDeps must not be linked into the daemon. The MCP SDK and what
// it pulls cost about 2 MB of binary, 1.5 MB of idle RSS and a third of a
// millisecond of package init at every start (issue 15): package mcp
// answers the protocol by hand; the SDK is only its tests' oracle.
// debug/elf brings DWARF, zlib and zstd readers (0.17 MB) for a check of
// 20 bytes: upgrade reads the ELF header by hand (upgrade/verify.go).
var unshippedDeps = []string{
	"github.com/modelcontextprotocol/",
	"github.com/google/jsonschema-go",
	"github.com/segmentio/",
	"github.com/yosida95/uritemplate",
	"encoding/gob",
	"debug/elf",
	"debug/dwarf",
}

func TestShippedBinaryLinksNoUnshippedDeps(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goCmd, "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages; want the daemon's whole graph:\n%s", len(deps), out)
	}
	for _, d := range deps {
		for _, bad := range unshippedDeps {
			if strings.HasPrefix(d, bad) {
				t.Errorf("the daemon links %s; keep %s out of non-test code", d, bad)
			}
		}
	}
}
