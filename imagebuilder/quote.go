package imagebuilder

import (
	"bytes"
	"encoding/json"
	"strings"
)

// shellQuote single-quotes s for /bin/sh unless it is made only of safe
// characters, so that no value can end a command and start another.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+:@/=-,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// execForm renders args as a JSON array (exec form: no shell involved).
// HTML escaping is off so "<" stays readable in the Dockerfile; control
// characters are escaped, so an argument can hold any value.
func execForm(args []string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(args) // []string always encodes
	// encoding/json leaves DEL raw; escaped, the file stays plain text.
	return strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\x7f", `\u007f`)
}

// dockerQuote renders a single-line value as a double-quoted Dockerfile
// word; backslash, quote and $ are escaped so nothing is expanded.
func dockerQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}
