// Package minserver is the server of the start-up and idle-memory
// baselines (minhttp, linkedhttp): one place, so that the two differ only
// by what linkedhttp links.
package minserver

import (
	"fmt"
	"net/http"
	"os"
)

// Main listens on the address of the command line (host:port) and answers
// GET /health with 200; name is the command's, for its usage line.
func Main(name string) {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s ADDR\n", name)
		os.Exit(2)
	}
	http.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], nil))
	os.Exit(1)
}
