package testsupport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// BodyReader is a request body: nil, a string or []byte sent as is, or any
// other value encoded as JSON.
func BodyReader(body any) (io.Reader, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.NewReader(b), nil
	case []byte:
		return bytes.NewReader(b), nil
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(data), nil
	}
}

// truncateAt bounds what of an answer goes into a failure message.
const truncateAt = 2000

// Truncate is b as text, cut after 2000 bytes with the full size said.
func Truncate(b []byte) string {
	if len(b) > truncateAt {
		return string(b[:truncateAt]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// FreePort returns a TCP port that was free on network ("tcp", "tcp4",
// "tcp6") and host a moment ago.
func FreePort(t testing.TB, network, host string) int {
	t.Helper()
	ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("find a free port on %s: %v", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ShellQuote quotes s as one word for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
