// Command minexec is the floor of the exec-and-wait benchmark: the
// smallest net/http server that runs a command as POST /process asks
// (through $SHELL -c, waiting for its end), with its stdout and stderr
// captured through pipes, and answers JSON once it has exited. It keeps no
// log, no record and no name, and supervises nothing: what any daemon of
// this kind written in Go pays at the least for an exec over HTTP.
//
//	minexec ADDR   listen on ADDR (host:port); GET /health, POST /process
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
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
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(shell, "-c", req.Command)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr // pipes, read by os/exec's goroutines
		a := answer{Status: "completed"}
		if err := cmd.Run(); err != nil {
			a.Status, a.ExitCode = "failed", -1
			if cmd.ProcessState != nil {
				a.ExitCode = cmd.ProcessState.ExitCode()
			}
		}
		a.Stdout, a.Stderr = stdout.String(), stderr.String()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], nil))
	os.Exit(1)
}
