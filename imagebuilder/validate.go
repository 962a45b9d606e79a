package imagebuilder

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

var (
	// Package names: letters, digits and the punctuation real package
	// managers use (versions "pkg==1.2", "@scope/pkg@1", "pkg=1.0-1").
	// No space, quote, ; & | $ ` or leading dash, so no option or command.
	pkgRe = regexp.MustCompile(`^[A-Za-z0-9@][A-Za-z0-9._+:@/=<>~^-]*$`)
	envRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	refRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@-]*$`)
)

func validatePkgs(manager string, pkgs []string) error {
	if len(pkgs) == 0 {
		return fmt.Errorf("%s: no package", manager)
	}
	for _, p := range pkgs {
		if !pkgRe.MatchString(p) {
			return fmt.Errorf("%s: invalid package name %q", manager, p)
		}
	}
	return nil
}

func validatePort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("expose: port %d out of range 1..65535", p)
	}
	return nil
}

func validateEnvName(k string) error {
	if !envRe.MatchString(k) {
		return fmt.Errorf("env: invalid name %q", k)
	}
	return nil
}

// validateAbsPath accepts clean absolute container paths without control
// characters (a newline would start a new Dockerfile instruction), and
// without $ or \: WORKDIR and COPY expand variables and escapes, so the
// image would not get the path that was asked for.
func validateAbsPath(what, p string) error {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("%s: invalid path %q (must be absolute and clean)", what, p)
	}
	if strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '$' || r == '\\' }) >= 0 {
		return fmt.Errorf("%s: invalid path %q (no control character, $ or \\)", what, p)
	}
	return nil
}

func validateRef(ref string) error {
	if !refRe.MatchString(ref) {
		return fmt.Errorf("invalid image reference %q", ref)
	}
	return nil
}

// validateNoNewline accepts a non-empty single-line value: no control
// character but tab (a newline would start a new Dockerfile instruction).
func validateNoNewline(what, s string) error {
	if s == "" || hasControl(s) {
		return fmt.Errorf("%s: empty or multi-line value %q (no control character but tab)", what, s)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0
}
