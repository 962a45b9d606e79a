package imagebuilder

import (
	"fmt"
	"strings"
)

// Dockerfile returns the generated Dockerfile. It uses only the legacy
// builder's syntax (no heredocs, no --mount), since many engines lack
// BuildKit. Check Err first: an invalid image still renders, for debugging.
func (i Image) Dockerfile() string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n", i.base)
	for _, s := range i.steps {
		b.WriteString(s.line + "\n")
	}
	// The sandbox API comes last so that changing it does not invalidate
	// the cache of the user's steps.
	fmt.Fprintf(&b, "COPY --from=%s /sandbox-api /usr/local/bin/sandbox-api\n", i.sandboxImage)
	if !i.hasEntrypoint {
		b.WriteString("COPY entrypoint.sh /entrypoint.sh\n")
		b.WriteString(`ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]` + "\n")
	}
	return b.String()
}
