package filesystem

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The temporary files of atomic writes (see AtomicFile) are named
//
//	.<destination's name>.<process mark><registry id>-<sequence>.sandbox-api-tmp
//
// The process mark is random, drawn once per daemon process, so that a name
// can be told to be this process's own temporary file from the name alone,
// without asking anyone: the walkers behind listings, trees, find and the
// searches hide exactly those names. A user's file named after the same
// pattern, or a leftover of an earlier daemon, carries no current mark and
// stays visible.

// tempSuffix ends the name of every temporary file of an atomic write.
const tempSuffix = ".sandbox-api-tmp"

// maxTempBase is how much of the destination's name goes into the
// temporary name: the rest of the name must still fit in NAME_MAX.
const maxTempBase = 64

// processMark is drawn once, on first use, and never changes: it is this
// process's signature in its temporary names, shared by every FS of the
// process (the walkers have no FS at hand to ask). Drawn lazily, as the
// first draw from crypto/rand costs some 50 µs, which package
// initialization would add to every start before the first answer.
var processMark = sync.OnceValue(func() string { return randomHex(6) })

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// tempName is the temporary name, in the destination's folder or an
// ancestor, of the seq-th atomic write of the registry id.
func tempName(dest, id string, seq uint64) string {
	base := filepath.Base(dest)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	return "." + base + "." + processMark() + id + "-" + strconv.FormatUint(seq, 36) + tempSuffix
}

// isDaemonTemp reports whether name (a base name) is the temporary file of
// an atomic write of this process. It is the one predicate the listings,
// trees, find, the searches and the watches use to hide them.
func isDaemonTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, tempSuffix) &&
		strings.Contains(name, "."+processMark())
}

// hasTempShape reports whether name has the shape of a temporary file of
// any daemon process, this one or an earlier one. Start-up cleaning removes
// only such names, whatever its journal says, so a damaged journal can never
// cost a user's file.
func hasTempShape(name string) bool {
	return len(name) > 1+len(tempSuffix) && strings.HasPrefix(name, ".") && strings.HasSuffix(name, tempSuffix)
}
