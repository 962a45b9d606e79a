//go:build e2eimage

package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// aptSourceFiles lists the machine's apt sources, the files mmdebstrap is
// given so it bootstraps from the same mirror apt-get uses here. The
// address itself is never written anywhere by this test.
func aptSourceFiles() ([]string, error) {
	var files []string
	if hasSourceLines("/etc/apt/sources.list") {
		files = append(files, "/etc/apt/sources.list")
	}
	for _, pattern := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if hasSourceLines(m) {
				files = append(files, m)
			}
		}
	}
	if len(files) == 0 {
		return nil, errors.New("this machine has no apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/)")
	}
	return files, nil
}

func hasSourceLines(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return true
		}
	}
	return false
}

// mirrorHosts are the host names of the URIs in the source files, in both
// the one-line ("deb [opts] URI suite…") and the deb822 ("URIs: …") forms.
func mirrorHosts(files []string) []string {
	seen := map[string]bool{}
	var hosts []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			for _, w := range fields {
				if u, err := url.Parse(w); err == nil && u.Host != "" && !seen[u.Hostname()] {
					seen[u.Hostname()] = true
					hosts = append(hosts, u.Hostname())
				}
			}
		}
	}
	return hosts
}

// checkNoMirror reads a rootfs tarball and fails if apt could still find
// the mirror it was built from: a sources entry, a downloaded list, an apt
// log, or any file under etc/apt that names one of the hosts. (Packages'
// own documentation naming Debian's public mirror is not a leak.)
func checkNoMirror(tarPath string, hosts []string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tarPath, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case name == "etc/apt/sources.list" && h.Size > 0,
			strings.HasPrefix(name, "etc/apt/sources.list.d/"),
			strings.HasPrefix(name, "var/lib/apt/lists/") && name != "var/lib/apt/lists/lock",
			strings.HasPrefix(name, "var/log/apt/") && h.Size > 0:
			return fmt.Errorf("%s keeps /%s: the mirror's address would be in the image", filepath.Base(tarPath), name)
		case strings.HasPrefix(name, "etc/apt/"):
			content, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return err
			}
			for _, host := range hosts {
				if bytes.Contains(content, []byte(host)) {
					return fmt.Errorf("%s: /%s names a mirror of this machine's apt sources", filepath.Base(tarPath), name)
				}
			}
		}
	}
}
