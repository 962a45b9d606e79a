package process

import (
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds a process name, as NAME_MAX bounds a file name. A
// name is kept in every record and repeated in every list answer: without
// a bound, 800 names of 1 MB each cost the daemon 1.6 GB, and GET /process
// answered 266 MB.
const MaxNameBytes = 255

// validateName accepts an empty name (one is generated) or at most
// MaxNameBytes of valid UTF-8 without "/", control characters or U+FFFD
// (the mark of invalid bytes once decoded): names are shown in terminals
// and logs, and used in URL paths (/process/{name}), where a "/" could
// never be reached.
func validateName(name string) error {
	if len(name) > MaxNameBytes {
		return invalidSpec("name is %d bytes long, over the limit of %d", len(name), MaxNameBytes)
	}
	for _, r := range name {
		switch {
		case r == utf8.RuneError:
			// An invalid byte, or U+FFFD, which JSON decoders put in place
			// of the invalid bytes a client sent.
			return invalidSpec("name is not valid UTF-8")
		case r == '/':
			return invalidSpec("name %q contains a /", name)
		case unicode.IsControl(r):
			return invalidSpec("name %q contains a control character", name)
		}
	}
	return nil
}
