package listeners

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestParseLocal(t *testing.T) {
	tests := []struct {
		in   string
		v6   bool
		addr string
		port int
	}{
		{"0100007F:1F90", false, "127.0.0.1", 8080},
		{"00000000:0050", false, "0.0.0.0", 80},
		{"00000000000000000000000001000000:1F90", true, "::1", 8080},
		{"00000000000000000000000000000000:0016", true, "::", 22},
	}
	for _, tt := range tests {
		l, ok := parseLocal(tt.in, tt.v6)
		if !ok || l.Address != tt.addr || l.Port != tt.port {
			t.Errorf("parseLocal(%q) = %+v, %v; want %s:%d", tt.in, l, ok, tt.addr, tt.port)
		}
	}
	for _, bad := range []string{"zz:1", "0100007F", "0100007F:zz", "01007F:0050"} {
		if _, ok := parseLocal(bad, false); ok {
			t.Errorf("parseLocal(%q) accepted", bad)
		}
	}
}

// TestFromProcTable: only LISTEN rows count; client ends of connections and
// garbage lines do not.
func TestFromProcTable(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0000000000000000 100 0 0 10 0
   2: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 13 1 0000000000000000 20 4 30 10 -1
   3: garbage
`
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "net", "tcp"), []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	// No tcp6 file: a kernel without IPv6 is not an error.
	ls, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Port: 0x1F90, Address: "127.0.0.1", Inode: 11},
		{Port: 0x16, Address: "0.0.0.0", Inode: 12},
	}
	if !slices.Equal(ls, want) {
		t.Fatalf("Read = %+v, want %+v", ls, want)
	}
	if _, err := FromProc(filepath.Join(root, "missing")); err != nil {
		t.Fatalf("a root without tables: %v, want no error", err)
	}
}

// sock_diag and /proc must agree on the listener table.
func TestDiagMatchesProc(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("no listener on %s here: %v", addr, err)
			continue
		}
		defer l.Close()
	}
	key := func(ls []Listener) map[Listener]bool {
		m := map[Listener]bool{}
		for _, l := range ls {
			m[l] = true
		}
		return m
	}
	// Other processes may open or close sockets between the two reads:
	// a few tries before calling it a mismatch.
	var diag, proc []Listener
	for try := 0; try < 3; try++ {
		var err error
		diag, err = FromDiag()
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			t.Skipf("sock_diag unavailable here: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if proc, err = FromProc("/proc"); err != nil {
			t.Fatal(err)
		}
		if sameSet(key(diag), key(proc)) {
			return
		}
	}
	t.Fatalf("sock_diag %v, /proc %v", diag, proc)
}

func sameSet(a, b map[Listener]bool) bool {
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	for l := range a {
		if !b[l] {
			return false
		}
	}
	return true
}
