package server

// Every route of the daemon, in one place: find a route here by its path,
// then its handler by name in the file the comment above it gives. Each
// GET route also answers HEAD (head.go), and a path glued to its prefix
// by an encoded slash ("/filesystem%2Ftmp") reaches its route
// (encoded_root.go).

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Route paths that handlers also read: a filesystem path follows each
// prefix, and the handler decodes it from the request's escaped path.
const (
	healthPath              = "/health"
	filesystemPrefix        = "/filesystem/"
	treePrefix              = "/filesystem/tree/" // wins over filesystemPrefix: "tree/x" is never a relative path (send it encoded)
	multipartPrefix         = "/filesystem-multipart"
	multipartInitiatePrefix = multipartPrefix + "/initiate/"
	findPrefix              = "/filesystem-find"
	fuzzyPrefix             = "/filesystem-search"
	contentSearchPrefix     = "/filesystem-content-search"
	watchPrefix             = "/watch/filesystem/"
	mcpPath                 = "/mcp"
)

// pathPrefixes are the route prefixes followed by a filesystem path.
// Clients of the existing daemon also send an absolute path with only its
// leading slash encoded, glued to the prefix: "/filesystem%2Ftmp/x" for
// /tmp/x (public clients build it as prefix + encode("/") + rest).
// encodedRootSlash splits them before routing.
func pathPrefixes() []string {
	return []string{
		"/filesystem",
		"/filesystem/tree",
		"/watch/filesystem",
		"/filesystem-find",
		"/filesystem-search",
		"/filesystem-content-search",
		"/filesystem-multipart/initiate",
		"/codegen/fastapply",
		"/codegen/reranking",
	}
}

// handlers are what the routes call, built by newHandler from the
// services. A nil member turns its routes off.
type handlers struct {
	root      http.HandlerFunc
	health    healthHandler
	processes *processHandlers
	files     *filesystemHandlers
	network   *networkHandlers  // nil without a network service
	terminals *terminalHandlers // nil: DISABLE_TERMINAL
	mcp       http.Handler      // nil: --mcp-disabled
	upgrade   http.HandlerFunc  // nil without an upgrader: 501
}

// registerRoutes registers every route. Streaming routes go through
// streamLimit.wrap (stream_limit.go): they hold a slot of --max-streams
// while they run. Routes that move bulk data go through bulkWork
// (processors.go): every processor is used while they run.
func registerRoutes(r chi.Router, h handlers) {
	// The daemon (root.go, health.go).
	r.Get("/", h.root)
	r.Get(healthPath, h.health.ServeHTTP)
	r.Head(healthPath, h.health.ServeHTTP)
	// Upgrades in place (upgrade.go); /health follows them.
	if h.upgrade != nil {
		r.Post("/upgrade", h.upgrade)
	} else {
		r.Post("/upgrade", notImplemented("self-upgrade"))
	}

	// Processes (process.go; the log stream in process_stream.go).
	p := h.processes
	r.Get("/process", p.list)
	r.Post("/process", p.execute) // streams itself with Accept: text/event-stream
	r.Get("/process/{identifier}", p.get)
	r.Delete("/process/{identifier}", p.stop)
	r.Delete("/process/{identifier}/kill", p.kill)
	r.Get("/process/{identifier}/logs", p.logs)
	r.Get("/process/{identifier}/logs/stream", p.streams.wrap(bulkWork(p.opts, p.streamLogs)))
	r.Post("/process/{identifier}/stdin", p.writeStdin)
	r.Delete("/process/{identifier}/stdin", p.closeStdin)

	// Files (filesystem.go; reads in filesystem_download.go, writes in
	// filesystem_upload.go). The bare "/filesystem" is the working
	// directory.
	f := h.files
	for _, pattern := range []string{"/filesystem", filesystemPrefix + "*"} {
		r.Get(pattern, f.get)
		r.Head(pattern, f.head)
		r.Put(pattern, f.put)
		r.Delete(pattern, f.delete)
	}
	// Folder trees (filesystem_tree.go).
	r.Get(treePrefix+"*", f.getTree)
	r.Put(treePrefix+"*", f.putTree)
	r.Delete(treePrefix+"*", f.deleteTree)
	// Multipart uploads (filesystem_multipart.go).
	r.Get(multipartPrefix, f.multipartList)
	r.Post(multipartInitiatePrefix+"*", f.multipartInitiate)
	r.Put(multipartPrefix+"/{uploadId}/part", bulkWork(f.opts, f.multipartPart))
	r.Post(multipartPrefix+"/{uploadId}/complete", bulkWork(f.opts, f.multipartComplete))
	r.Delete(multipartPrefix+"/{uploadId}/abort", f.multipartAbort)
	r.Get(multipartPrefix+"/{uploadId}/parts", f.multipartParts)
	// Searches (filesystem_search.go; find in filesystem_find.go). The
	// bare prefix searches the working directory.
	find, fuzzy, content := bulkWork(f.opts, f.find), bulkWork(f.opts, f.fuzzySearch), bulkWork(f.opts, f.contentSearch)
	r.Get(findPrefix, find)
	r.Get(findPrefix+"/*", find)
	r.Get(fuzzyPrefix, fuzzy)
	r.Get(fuzzyPrefix+"/*", fuzzy)
	r.Get(contentSearchPrefix, content)
	r.Get(contentSearchPrefix+"/*", content)
	// Watches (watch_stream.go).
	r.Get(watchPrefix+"*", f.streams.wrap(f.watch))

	// Ports (network.go).
	if n := h.network; n != nil {
		r.Get("/network/ports", n.allPorts)
		r.Get("/network/process/{pid}/ports", n.processPorts)
		r.Post("/network/process/{pid}/monitor", n.startMonitor)
		r.Delete("/network/process/{pid}/monitor", n.stopMonitor)
	}

	// The web terminal (terminal_page.go, terminal_ws.go,
	// terminal_sessions.go).
	if t := h.terminals; t != nil {
		r.Get("/terminal", t.page)
		r.Get("/terminal/assets/{name}", t.asset)
		r.Get("/terminal/ws", t.streams.wrap(t.websocket))
		r.Get("/terminal/sessions", t.list)
		r.Delete("/terminal/sessions/{id}", t.closeSession)
	}

	// The Model Context Protocol endpoint (mcp.go), every method.
	if h.mcp != nil {
		r.Handle(mcpPath, h.mcp)
	}

	// Routes of the Blaxel platform (platform.go). This daemon mounts no
	// drives, so their list is empty; the rest drive infrastructure a
	// standalone daemon does not have.
	r.Get("/drives/mount", listDrives)
	r.Post("/drives/mount", notImplemented("drive mounts (blfs)"))
	r.Delete("/drives/mount/*", notImplemented("drive mounts (blfs)"))
	r.Post("/environment/reload", notImplemented("the environment reload from /bl/metadata"))
	r.Delete("/network/tunnel", notImplemented("the network tunnel"))
	r.Put("/network/tunnel/config", notImplemented("the network tunnel"))
	r.Put("/codegen/fastapply/*", codegenUnavailable)
	r.Get("/codegen/reranking/*", codegenUnavailable)
}
