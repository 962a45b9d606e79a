// Command minhttp is the physical baseline of the start-up and idle-memory
// benchmarks: the smallest net/http server that answers GET /health, started
// and polled exactly as the daemon is.
//
//	minhttp ADDR   listen on ADDR (host:port) and answer /health with 200
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: minhttp ADDR")
		os.Exit(2)
	}
	http.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], nil))
	os.Exit(1)
}
