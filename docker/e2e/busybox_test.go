//go:build e2eimage

package e2e

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// busyboxTag stands in for Alpine: its shell is busybox ash like Alpine's,
// with wget and nc but neither curl nor apk.
const busyboxTag = "sbx-e2e/busybox:base"

// staticBusybox finds the machine's busybox and insists it is the static
// one (Debian's busybox-static): the rootfs has no libc to load it.
func staticBusybox() (string, error) {
	path, err := exec.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("no busybox: apt-get install -y busybox-static")
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked (Debian's busybox); the test needs busybox-static", path)
		}
	}
	return path, nil
}

// importBusyboxBase writes the tiny rootfs as a tar stream straight into
// `docker import`: /bin/busybox, a symlink per applet where busybox would
// install it (`busybox --list-full`), and the few files an Alpine image has
// that programs expect (/tmp, /etc/passwd…). It takes well under a second,
// so it is not cached.
func importBusyboxBase(d *dockerCLI, busybox string) error {
	list, err := runCmd(time.Minute, nil, nil, busybox, "--list-full")
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBusyboxRootfs(pw, bin, strings.Fields(list))) }()
	_, err = d.runStdin(5*time.Minute, pr,
		"import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", `CMD ["/bin/sh"]`, "-", busyboxTag)
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if import failed early
	return err
}

func writeBusyboxRootfs(w io.Writer, busybox []byte, applets []string) error {
	tw := tar.NewWriter(w)
	now := time.Now()
	dirs := map[string]bool{}
	dir := func(name string, mode int64) error {
		if dirs[name] {
			return nil
		}
		dirs[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: now})
	}
	file := func(name string, mode int64, content []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(content)
		return err
	}
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "usr/local", "usr/local/bin", "etc", "root", "var", "var/log", "proc", "sys", "dev"} {
		if err := dir(d, 0o755); err != nil {
			return err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return err
	}
	if err := file("bin/busybox", 0o755, busybox); err != nil {
		return err
	}
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")); err != nil {
		return err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")); err != nil {
		return err
	}
	for _, a := range applets {
		if a == "bin/busybox" {
			continue
		}
		if err := dir(filepath.Dir(a), 0o755); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: a, Linkname: "/bin/busybox", Mode: 0o777, ModTime: now}); err != nil {
			return err
		}
	}
	return tw.Close()
}
