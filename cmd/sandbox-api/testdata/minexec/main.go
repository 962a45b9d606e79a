// Command minexec is the floor of the exec-and-wait benchmark: the
// smallest net/http server that runs a command as POST /process asks
// (through $SHELL -c, waiting for its end), with its stdout and stderr
// captured through pipes, and answers JSON once it has exited. It keeps no
// log, no record and no name, and supervises nothing.
//
// It waits the cheapest way known for a Go server: the handler forks, then
// polls both pipes and the child's pidfd itself, in one poll(2) on its own
// thread, so that the child's end wakes that thread once and nothing else.
// (os/exec's way, a goroutine per pipe on the runtime's poller and a
// thread blocked in waitid, answered 30 to 100 µs later on the 2-core VM.)
//
//	minexec ADDR   listen on ADDR (host:port); GET /health, POST /process
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// answer is the part of the daemon's process answer a client waits for.
type answer struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: minexec ADDR")
		os.Exit(2)
	}
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env := os.Environ()
	http.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	http.HandleFunc("POST /process", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Command string `json:"command"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Command == "" {
			http.Error(w, `{"error":"a command is required"}`, http.StatusBadRequest)
			return
		}
		a, err := run(shell, req.Command, env, devNull)
		if err != nil {
			http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], nil))
	os.Exit(1)
}

// run runs command to its end and returns what it printed.
func run(shell, command string, env []string, stdin *os.File) (answer, error) {
	var out, errOut [2]int
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		return answer{}, err
	}
	if err := unix.Pipe2(errOut[:], unix.O_CLOEXEC); err != nil {
		unix.Close(out[0])
		unix.Close(out[1])
		return answer{}, err
	}
	pidfd := -1
	pid, err := syscall.ForkExec(shell, []string{shell, "-c", command}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{stdin.Fd(), uintptr(out[1]), uintptr(errOut[1])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
	})
	unix.Close(out[1])
	unix.Close(errOut[1])
	if err != nil {
		unix.Close(out[0])
		unix.Close(errOut[0])
		return answer{}, err
	}
	var captured [2]bytes.Buffer
	fds := []unix.PollFd{{Fd: int32(out[0]), Events: unix.POLLIN}, {Fd: int32(errOut[0]), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	buf := make([]byte, 32<<10)
	open := len(fds)
	if pidfd < 0 { // no pidfds here: the pipes' end, then wait4
		fds[2].Fd = -1
		open--
	}
	for open > 0 {
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			break
		}
		for i := range fds {
			if fds[i].Fd < 0 || fds[i].Revents == 0 {
				continue
			}
			if i == 2 { // the pidfd: the child exited
				fds[i].Fd = -1
				open--
				continue
			}
			n, err := unix.Read(int(fds[i].Fd), buf)
			if n > 0 {
				captured[i].Write(buf[:n])
			} else if !errors.Is(err, unix.EINTR) { // end of file
				unix.Close(int(fds[i].Fd))
				fds[i].Fd = -1
				open--
			}
		}
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	unix.Close(pidfd)
	a := answer{Status: "completed", Stdout: captured[0].String(), Stderr: captured[1].String()}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		a.Status, a.ExitCode = "failed", ws.ExitStatus()
		if !ws.Exited() {
			a.ExitCode = -1
		}
	}
	return a, nil
}
