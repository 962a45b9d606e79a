package main

import (
	"flag"
	"fmt"
	"net/url"
)

// upgradeFlags are the flags of upgrades in place (POST /upgrade, SIGUSR2).
type upgradeFlags struct {
	baseURL string // the release site; "" = requests must give theirs
	dir     string // "" = upgrade.DefaultDir()
}

// register adds the upgrade flags to fs.
func (u *upgradeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.baseURL, "upgrade-base-url", "", "release site of POST /upgrade: {url}/latest/download/sandbox-api-{os}-{arch}, {url}/download/{version}/...; the default of a request, and under --user the only one (empty: requests must give baseUrl)")
	fs.StringVar(&u.dir, "upgrade-dir", "", "folder for the binaries of an upgrade, the daemon's own (default $TMPDIR/sandbox-api-upgrade)")
}

// validate checks the release site: an http or https URL.
func (u upgradeFlags) validate() error {
	if u.baseURL == "" {
		return nil
	}
	b, err := url.Parse(u.baseURL)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" || b.RawQuery != "" || b.Fragment != "" {
		return fmt.Errorf("--upgrade-base-url %q: must be an http or https URL without a query", u.baseURL)
	}
	return nil
}
