package imagebuilder

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// AptInstall installs Debian packages in one layer, without recommends,
// and removes the package lists so they do not bloat the image.
func (i Image) AptInstall(pkgs ...string) Image {
	return i.add(step{line: "RUN apt-get update && apt-get install -y --no-install-recommends " +
		quoteAll(pkgs) + " && rm -rf /var/lib/apt/lists/*"}, validatePkgs("apt", pkgs))
}

// ApkInstall installs Alpine packages without keeping the index.
func (i Image) ApkInstall(pkgs ...string) Image {
	return i.add(step{line: "RUN apk add --no-cache " + quoteAll(pkgs)}, validatePkgs("apk", pkgs))
}

// PipInstall installs Python packages without keeping pip's cache.
func (i Image) PipInstall(pkgs ...string) Image {
	return i.add(step{line: "RUN pip install --no-cache-dir " + quoteAll(pkgs)}, validatePkgs("pip", pkgs))
}

// NpmInstall installs Node packages globally.
func (i Image) NpmInstall(pkgs ...string) Image {
	return i.add(step{line: "RUN npm install -g " + quoteAll(pkgs)}, validatePkgs("npm", pkgs))
}

// Run runs a shell command. The command is the caller's own shell code and
// is not quoted; it must fit on one line so it cannot add an instruction.
func (i Image) Run(cmd string) Image {
	return i.add(step{line: "RUN " + cmd}, validateNoNewline("run", cmd))
}

// Workdir sets the working directory (absolute path).
func (i Image) Workdir(dir string) Image {
	return i.add(step{line: "WORKDIR " + dir}, validateAbsPath("workdir", dir))
}

// Env sets environment variables, sorted by name for a deterministic file.
func (i Image) Env(vars map[string]string) Image {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	parts := make([]string, 0, len(keys))
	env := make(map[string]string, len(vars))
	for _, k := range keys {
		errs = append(errs, validateEnvName(k))
		if hasControl(vars[k]) {
			errs = append(errs, fmt.Errorf("env: multi-line value or control character for %s", k))
		}
		parts = append(parts, k+"="+dockerQuote(vars[k]))
		env[k] = vars[k]
	}
	if len(keys) == 0 {
		errs = append(errs, fmt.Errorf("env: no variable"))
	}
	return i.add(step{line: "ENV " + strings.Join(parts, " "), env: env}, errs...)
}

// Copy copies a local file or folder into the image at dest. It is put in
// the build context under a name derived from its position in the steps,
// so two sources with the same base name cannot collide.
func (i Image) Copy(local, dest string) Image {
	var errs []error
	abs, err := filepath.Abs(local)
	if err != nil || local == "" {
		errs = append(errs, fmt.Errorf("copy: invalid local path %q: %v", local, err))
	}
	errs = append(errs, validateAbsPath("copy", dest))
	name := fmt.Sprintf("files/%d-%s", len(i.steps), sanitize(filepath.Base(abs)))
	return i.add(step{
		line: "COPY " + execForm([]string{name, dest}),
		copy: &copySpec{local: abs, context: name},
	}, errs...)
}

// sanitize keeps a context name readable and free of Dockerfile syntax.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// Expose declares ports (also listed in blaxel.toml).
func (i Image) Expose(ports ...int) Image {
	var errs []error
	s := make([]string, len(ports))
	for k, p := range ports {
		errs = append(errs, validatePort(p))
		s[k] = strconv.Itoa(p)
	}
	if len(ports) == 0 {
		errs = append(errs, fmt.Errorf("expose: no port"))
	}
	return i.add(step{line: "EXPOSE " + strings.Join(s, " "), ports: append([]int(nil), ports...)}, errs...)
}

// User sets the user (name or uid[:gid]) the following steps run as.
func (i Image) User(u string) Image {
	return i.add(step{line: "USER " + u}, validateUser(u))
}

func validateUser(u string) error {
	if !pkgRe.MatchString(u) {
		return fmt.Errorf("user: invalid user %q", u)
	}
	return nil
}

// Entrypoint sets the entrypoint (exec form). It replaces entrypoint.sh,
// which starts the sandbox API: the image then serves no API unless this
// entrypoint starts /usr/local/bin/sandbox-api itself. To run a program
// beside the API, give it with Cmd (the entrypoint runs it as the process
// named main) or as a startup command in SANDBOX_STARTUP (Env).
func (i Image) Entrypoint(args ...string) Image {
	var err error
	if len(args) == 0 {
		err = fmt.Errorf("entrypoint: no argument")
	}
	n := i.add(step{line: "ENTRYPOINT " + execForm(args)}, err)
	n.hasEntrypoint = true
	return n
}

// Cmd sets the default command (exec form).
func (i Image) Cmd(args ...string) Image {
	var err error
	if len(args) == 0 {
		err = fmt.Errorf("cmd: no argument")
	}
	return i.add(step{line: "CMD " + execForm(args)}, err)
}
