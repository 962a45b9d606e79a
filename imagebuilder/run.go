package imagebuilder

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// RunOptions configure Run.
type RunOptions struct {
	Image    string        // image id or tag, required
	Name     string        // container name, optional
	MemoryMB int           // --memory, optional
	Timeout  time.Duration // wait for /health, default 60s
	Docker   string        // docker binary, default "docker"
	Env      []string      // docker client environment; nil: this process's
}

// Container is a started sandbox: URL of its API and a Stop that removes it.
type Container struct {
	ID   string
	URL  string
	Stop func(context.Context) error
}

// runArgs publishes 8080 on a random host port. With a local engine the
// port is bound to loopback only; with a tcp:// DOCKER_HOST it cannot be.
func runArgs(o RunOptions, remote bool) []string {
	publish := "127.0.0.1::8080"
	if remote {
		publish = "8080"
	}
	args := []string{"run", "-d", "--rm", "-p", publish}
	if o.Name != "" {
		args = append(args, "--name", o.Name)
	}
	if o.MemoryMB > 0 {
		args = append(args, "--memory", fmt.Sprintf("%dm", o.MemoryMB))
	}
	return append(args, o.Image)
}

// engineHost is the host published ports are reached on: DOCKER_HOST's
// host for a tcp engine, loopback otherwise.
func engineHost(dockerHost string) (host string, remote bool) {
	if u, err := url.Parse(dockerHost); err == nil && u.Scheme == "tcp" && u.Hostname() != "" {
		return u.Hostname(), true
	}
	return "127.0.0.1", false
}

// Run runs a container from an image built by Build, waits until the
// sandbox API answers GET /health, and returns its URL. On failure the
// container is removed. When the API never answered and the image's
// entrypoint is not one that starts it (see Image.Entrypoint), the error
// wraps ErrForeignEntrypoint and says what to use instead. (It is a function of the package; the method
// Image.Run is the RUN step.)
func Run(ctx context.Context, o RunOptions) (*Container, error) {
	if o.Image == "" {
		return nil, fmt.Errorf("imagebuilder: run: no image")
	}
	docker := o.Docker
	if docker == "" {
		docker = "docker"
	}
	env := clientEnv(o.Env)
	host, remote := engineHost(lookupEnv(env, "DOCKER_HOST"))
	dockerCmd := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, docker, args...)
		cmd.Env = env
		return cmd
	}
	out, err := dockerCmd(ctx, runArgs(o, remote)...).Output()
	if err != nil {
		return nil, fmt.Errorf("imagebuilder: docker run %s: %w", o.Image, exitDetail(err))
	}
	id := strings.TrimSpace(string(out))
	c := &Container{ID: id, Stop: func(ctx context.Context) error {
		if out, err := dockerCmd(ctx, "rm", "-f", id).CombinedOutput(); err != nil {
			return fmt.Errorf("imagebuilder: docker rm %s: %w: %s", id, err, out)
		}
		return nil
	}}
	fail := func(err error) (*Container, error) {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	out, err = dockerCmd(ctx, "port", id, "8080/tcp").Output()
	if err != nil {
		return fail(fmt.Errorf("imagebuilder: docker port %s: %w", id, exitDetail(err)))
	}
	port, err := parsePort(string(out))
	if err != nil {
		return fail(err)
	}
	c.URL = "http://" + net.JoinHostPort(host, port)
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	if err := waitHealth(ctx, c.URL+"/health", timeout); err != nil {
		if why := foreignEntrypoint(ctx, dockerCmd, o.Image); why != nil {
			err = fmt.Errorf("%w; %w", err, why)
		}
		return fail(fmt.Errorf("imagebuilder: container %s: %w", id, err))
	}
	return c, nil
}

// parsePort takes the port of the first line of `docker port` output
// ("127.0.0.1:49153" or "[::]:49153").
func parsePort(out string) (string, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	_, port, err := net.SplitHostPort(strings.TrimSpace(line))
	if err != nil || port == "" {
		return "", fmt.Errorf("imagebuilder: unexpected docker port output %q", out)
	}
	return port, nil
}

func waitHealth(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy after %s: %w", u, timeout, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// exitDetail adds the command's stderr to the error when there is one.
func exitDetail(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
