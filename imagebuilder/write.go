package imagebuilder

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sandbox-api/sandbox-api/entrypoint"
)

// DefaultMemory is the memory (MB) written to blaxel.toml, as in the SDKs.
const DefaultMemory = 4096

// WithMemory sets the memory in MB written to blaxel.toml.
func (i Image) WithMemory(mb int) Image {
	n := i.clone()
	if mb <= 0 {
		n.errs = append(n.errs, fmt.Errorf("memory: %d MB must be positive", mb))
	}
	n.memory = mb
	return n
}

// Write creates the build context dir/name (Dockerfile, copied files,
// entrypoint.sh, blaxel.toml) and returns its path. It refuses an invalid
// image rather than writing a context that would not build.
func (i Image) Write(dir, name string) (string, error) {
	if err := i.Err(); err != nil {
		return "", fmt.Errorf("imagebuilder: invalid image: %w", err)
	}
	if !envRe.MatchString(strings.ReplaceAll(name, "-", "_")) {
		return "", fmt.Errorf("imagebuilder: invalid name %q", name)
	}
	out := filepath.Join(dir, name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("imagebuilder: create context: %w", err)
	}
	if err := i.writeContext(out, name); err != nil {
		return "", fmt.Errorf("imagebuilder: write context %s: %w", out, err)
	}
	return out, nil
}

// WriteTemp writes the build context into a new temporary folder and
// returns the context's path; the caller removes the folder, its parent
// (filepath.Dir). On failure nothing is left behind.
func (i Image) WriteTemp() (string, error) {
	dir, err := os.MkdirTemp("", "imagebuilder-")
	if err != nil {
		return "", fmt.Errorf("imagebuilder: temp dir: %w", err)
	}
	out, err := i.Write(dir, "sandbox")
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return out, nil
}

func (i Image) writeContext(out, name string) error {
	if err := os.WriteFile(filepath.Join(out, "Dockerfile"), []byte(i.Dockerfile()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "entrypoint.sh"), entrypoint.Script, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "blaxel.toml"), []byte(i.blaxelToml(name)), 0o644); err != nil {
		return err
	}
	for _, s := range i.steps {
		if s.copy == nil {
			continue
		}
		if err := copyTree(s.copy.local, filepath.Join(out, filepath.FromSlash(s.copy.context))); err != nil {
			return fmt.Errorf("copy %s: %w", s.copy.local, err)
		}
	}
	return nil
}

// copyTree copies a file or a folder (regular files and folders only,
// keeping permission bits so executables stay executable).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: not a regular file or folder", p)
		}
	})
}

// blaxelToml renders the manifest: ports in Expose order, env sorted.
func (i Image) blaxelToml(name string) string {
	mem := i.memory
	if mem == 0 {
		mem = DefaultMemory
	}
	env := map[string]string{}
	var ports []int
	for _, s := range i.steps {
		ports = append(ports, s.ports...)
		for k, v := range s.env {
			env[k] = v // later Env steps win, as in the Dockerfile
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name = %s\ntype = \"sandbox\"\n\n[runtime]\nmemory = %d # MB\n", strconv.Quote(name), mem)
	for _, p := range ports {
		fmt.Fprintf(&b, "\n[[runtime.ports]]\nname = \"port-%d\"\ntarget = %d\nprotocol = \"tcp\"\n", p, p)
	}
	if len(env) > 0 {
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("\n[env]\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s = %s\n", k, strconv.Quote(env[k]))
		}
	}
	return b.String()
}
