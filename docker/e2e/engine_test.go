//go:build e2eimage

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The engine is a private dockerd: its own data root, exec root, socket,
// pidfile, config file, bridge, cgroup parent and containerd namespace, so it
// never meets another engine on the machine. Its state lives at one fixed
// path, so whatever a crashed run left behind is found and removed by the
// next run before it starts (see stale_test.go).
const (
	engineBridge   = "sbxe2e0" // the default bridge of the private engine
	engineCgroup   = "sbx-e2e" // cgroup parent of every container it runs
	engineNS       = "sbx-e2e" // containerd namespace, if a system containerd is used
	engineStartMax = testsupport.HangGuard
	engineStopMax  = testsupport.HangGuard
)

// errEngineLocked: another run uses the engine's state right now.
var errEngineLocked = errors.New("another e2e-image run holds the engine's lock")

type engine struct {
	dir    string // data/, run/, docker.sock, dockerd.pid, dockerd.log, cli/
	lock   *os.File
	cmd    *exec.Cmd
	exited chan struct{} // closed when dockerd has exited
	docker *dockerCLI

	subnet  string // of the bridge, for the summary
	version string // of dockerd
}

// engineDir is fixed (not a fresh temp dir) so stale state is found again.
func engineDir() string { return filepath.Join(os.TempDir(), "sandbox-api-e2e-engine") }

func (e *engine) path(name string) string { return filepath.Join(e.dir, name) }

// startEngine starts the private dockerd and waits until it answers. An
// error means the engine cannot run here; the caller decides between skip
// and failure. stop must be called in every case once startEngine returned
// an engine.
func startEngine() (*engine, error) {
	e := &engine{dir: engineDir(), exited: make(chan struct{})}
	lock, err := lockEngine(e.dir + ".lock")
	if err != nil {
		return nil, err
	}
	e.lock = lock
	if err := removeEngineState(e.dir); err != nil {
		e.unlock()
		return nil, fmt.Errorf("remove the state of a previous run: %w", err)
	}
	if err := e.start(); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

func (e *engine) start() error {
	if err := os.MkdirAll(e.path("cli"), 0o700); err != nil {
		return err
	}
	// An empty config file: a /etc/docker/daemon.json of the machine must
	// not change this engine.
	if err := os.WriteFile(e.path("daemon.json"), []byte("{}\n"), 0o600); err != nil {
		return err
	}
	var err error
	if e.subnet, err = createBridge(engineBridge); err != nil {
		return err
	}
	log, err := os.Create(e.path("dockerd.log"))
	if err != nil {
		return err
	}
	defer log.Close()

	sock := e.path("docker.sock")
	e.cmd = exec.Command("dockerd",
		"--data-root", e.path("data"),
		"--exec-root", e.path("run"),
		"--pidfile", e.path("dockerd.pid"),
		"--host", "unix://"+sock,
		"--config-file", e.path("daemon.json"),
		"--containerd-namespace", engineNS,
		"--containerd-plugins-namespace", engineNS+"-plugins",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--cgroup-parent", "/"+engineCgroup,
		// Our own bridge, and no iptables, NAT or forwarding: the machine's
		// firewall and sysctls stay untouched. Published ports still work
		// through the userland proxy, which listens on the host and connects
		// to the container over the bridge; containers need no way out
		// (builds install nothing: the bases already hold every package).
		"--bridge", engineBridge,
		"--iptables=false", "--ip-masq=false", "--ip-forward=false",
		"--userland-proxy=true",
	)
	e.cmd.Stdout, e.cmd.Stderr = log, log
	// If the test binary dies (a -timeout panic), dockerd gets SIGTERM and
	// shuts its containers down instead of living on.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %w", err)
	}
	go func() { _ = e.cmd.Wait(); close(e.exited) }()

	e.docker = newDockerCLI(sock, e.path("cli"))
	deadline := time.Now().Add(engineStartMax)
	for {
		out, err := e.docker.run(10*time.Second, "version", "--format", "{{.Server.Version}}")
		if err == nil {
			e.version = strings.TrimSpace(out)
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("dockerd exited at start (%s); its log ends with:\n%s", e.cmd.ProcessState, e.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not answer within %s (%v %s); its log ends with:\n%s", engineStartMax, err, out, e.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *engine) logTail() string {
	b, _ := os.ReadFile(e.path("dockerd.log"))
	return tail(string(b), 3000)
}

// stop removes every container, stops dockerd and removes its whole state
// (images included, as they live in the data root), the bridge and the
// cgroups. It reports what it could not do rather than stopping halfway.
func (e *engine) stop() error {
	var errs []error
	if e.cmd != nil && e.cmd.Process != nil {
		select {
		case <-e.exited:
		default:
			// Containers first, killed: a graceful stop of each would only
			// slow the engine's own shutdown down.
			if ids, err := e.docker.run(time.Minute, "ps", "-aq"); err == nil && strings.TrimSpace(ids) != "" {
				args := append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)
				if _, err := e.docker.run(2*time.Minute, args...); err != nil {
					errs = append(errs, err)
				}
			}
			_ = e.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-e.exited:
			case <-time.After(engineStopMax):
				_ = e.cmd.Process.Kill()
				<-e.exited
				errs = append(errs, fmt.Errorf("dockerd ignored SIGTERM for %s and was killed", engineStopMax))
			}
		}
	}
	if err := removeEngineState(e.dir); err != nil {
		errs = append(errs, err)
	}
	e.unlock()
	return errors.Join(errs...)
}

func (e *engine) unlock() {
	if e.lock != nil {
		_ = e.lock.Close() // closing releases the flock
		e.lock = nil
	}
}

// lockEngine makes two runs on one machine fail clearly instead of removing
// each other's engine. A crashed run's lock goes with its process.
func lockEngine(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", errEngineLocked, path, err)
	}
	return f, nil
}
