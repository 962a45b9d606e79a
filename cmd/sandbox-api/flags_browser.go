package main

import (
	"flag"
	"os"
	"strings"

	"github.com/sandbox-api/sandbox-api/server"
)

// browserFlags say which browser pages may drive a daemon without a token
// (server.BrowserPolicy). Each list is kept normalized and comma-joined,
// so that config stays comparable.
type browserFlags struct {
	allowedOrigins string
	allowedHosts   string
}

// registerBrowserFlags adds --allowed-origins and --allowed-hosts to fs.
// Each takes a comma-separated list and may be repeated; entries are
// checked and normalized as they are parsed, so a bad one fails the parse
// with the flag's name.
func registerBrowserFlags(fs *flag.FlagSet, b *browserFlags) {
	fs.Func("allowed-origins", "origins (scheme://host[:port], comma-separated) whose pages may call the API without a token, besides the daemon's own", func(v string) error {
		return appendEntries(&b.allowedOrigins, v, server.NormalizeOrigin)
	})
	fs.Func("allowed-hosts", "host names (or *.domain, comma-separated) browsers may reach the daemon by, besides IP literals, localhost and the machine's name; X-Forwarded-Host/-Proto/-Prefix are trusted only for them", func(v string) error {
		return appendEntries(&b.allowedHosts, v, server.NormalizeAllowedHost)
	})
}

// appendEntries appends the normalized entries of a comma-separated list
// to list.
func appendEntries(list *string, v string, normalize func(string) (string, error)) error {
	for _, e := range strings.Split(v, ",") {
		if strings.TrimSpace(e) == "" {
			continue
		}
		n, err := normalize(e)
		if err != nil {
			return err
		}
		if *list != "" {
			*list += ","
		}
		*list += n
	}
	return nil
}

// policy is the server's view of the flags, with the machine's host name
// (none if the kernel cannot tell it).
func (b browserFlags) policy() server.BrowserPolicy {
	hostname, _ := os.Hostname()
	return server.BrowserPolicy{AllowedOrigins: splitList(b.allowedOrigins), AllowedHosts: splitList(b.allowedHosts), Hostname: hostname}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
