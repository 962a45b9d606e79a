package imagebuilder

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// BuildOptions configure Build. The docker CLI is used rather than the
// engine API so the module gains no dependency; it honours DOCKER_HOST
// through the inherited environment.
type BuildOptions struct {
	Tag       string            // image tag, optional
	MemoryMB  int               // build container memory limit, optional
	BuildArgs map[string]string // --build-arg, passed in sorted order
	NoCache   bool
	Progress  func(line string) // receives each output line, optional
	Docker    string            // docker binary, default "docker"
	// Env is the docker client's environment (DOCKER_HOST, DOCKER_CONFIG,
	// ...); nil means this process's environment.
	Env []string
}

// clientEnv is env, or the process environment when env is nil.
func clientEnv(env []string) []string {
	if env == nil {
		return os.Environ()
	}
	return append([]string(nil), env...)
}

// lookupEnv finds key in an environment list; the last value wins, as in
// exec.Cmd.
func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// buildArgs returns the docker arguments for a context dir and id file.
// DOCKER_BUILDKIT=0 is set by Build: only legacy syntax is generated.
func buildArgs(o BuildOptions, contextDir, iidFile string) []string {
	args := []string{"build", "--iidfile", iidFile}
	if o.Tag != "" {
		args = append(args, "--tag", o.Tag)
	}
	if o.MemoryMB > 0 {
		args = append(args, "--memory", strconv.Itoa(o.MemoryMB)+"m")
	}
	keys := make([]string, 0, len(o.BuildArgs))
	for k := range o.BuildArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--build-arg", k+"="+o.BuildArgs[k])
	}
	if o.NoCache {
		args = append(args, "--no-cache")
	}
	return append(args, contextDir)
}

// Build writes a temporary build context, builds it with the local Docker
// engine and returns the image id.
func (i Image) Build(ctx context.Context, o BuildOptions) (string, error) {
	dir, err := i.WriteTemp()
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(filepath.Dir(dir))
	iid := filepath.Join(filepath.Dir(dir), "iid")
	docker := o.Docker
	if docker == "" {
		docker = "docker"
	}
	cmd := exec.CommandContext(ctx, docker, buildArgs(o, dir, iid)...)
	cmd.Env = append(clientEnv(o.Env), "DOCKER_BUILDKIT=0")
	if err := runStreaming(cmd, o.Progress); err != nil {
		return "", fmt.Errorf("imagebuilder: docker build: %w", err)
	}
	id, err := os.ReadFile(iid)
	if err != nil {
		return "", fmt.Errorf("imagebuilder: read image id: %w", err)
	}
	return strings.TrimSpace(string(id)), nil
}

// runStreaming runs cmd, handing stdout and stderr lines to progress, and
// keeps the last lines for the error message.
func runStreaming(cmd *exec.Cmd, progress func(string)) error {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var (
		mu   sync.Mutex
		tail []string
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if tail = append(tail, line); len(tail) > 10 {
				tail = tail[1:]
			}
			mu.Unlock()
			if progress != nil {
				progress(line)
			}
		}
		_, _ = io.Copy(io.Discard, pr) // drain after a too long line
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return fmt.Errorf("%w\n%s", err, strings.Join(tail, "\n"))
	}
	return nil
}
