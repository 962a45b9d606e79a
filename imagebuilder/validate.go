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

// validateAbsPath accepts clean absolute container paths without newlines
// (a newline would start a new Dockerfile instruction).
func validateAbsPath(what, p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\n\r\x00") || path.Clean(p) != p {
		return fmt.Errorf("%s: invalid path %q (must be absolute and clean)", what, p)
	}
	return nil
}

func validateRef(ref string) error {
	if !refRe.MatchString(ref) {
		return fmt.Errorf("invalid image reference %q", ref)
	}
	return nil
}

func validateNoNewline(what, s string) error {
	if s == "" || strings.ContainsAny(s, "\n\r\x00") {
		return fmt.Errorf("%s: empty or multi-line value %q", what, s)
	}
	return nil
}
