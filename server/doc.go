// Package server is the HTTP face of the daemon: it turns requests into
// calls of the domain packages (process, filesystem, network, terminal,
// mcp) and their results and errors back into the JSON wire format. It
// holds no domain logic.
//
// Where to look:
//
//   - server.go: New, its Options and Services; the middleware stack, in
//     order, and the handlers built from the services.
//   - routes.go: every route of the daemon (method, path, handler), and
//     the path prefixes handlers read. Start here to find a route.
//   - statuses.go: the one table from domain errors to HTTP statuses, and
//     the few route groups that answer some errors otherwise. A handler
//     answers a failed domain call with writeFailure, never its own status.
//   - write_json.go: writeJSON and writeError, the one error shape
//     {"error": "..."}; request_body.go: body limits and JSON decoding;
//     form_body.go: multipart/form-data bodies, read by internal/formdata;
//     jsonstring.go: a JSON string streamed from a reader (file contents,
//     process output) without holding it.
//
// The middleware (server.go installs it, outermost first):
//
//   - middleware.go: request ids, the access log (response_recorder.go
//     keeps its status and size; answer_hold.go holds a small answer
//     whole, to send it before the line), panic recovery, no-store, CORS;
//   - body_guard*.go: request bodies bounded in time, refusals sent
//     without waiting for the body;
//   - browser_guard.go, browser_policy.go: which browser pages may call a
//     daemon without a token (DNS rebinding and cross-site guard);
//   - auth.go: the bearer token, and the terminal page's cookie;
//   - encoded_root.go: "/filesystem%2Ftmp" routed like "/filesystem/%2Ftmp";
//   - processors.go: every request counted by the processor governor
//     (internal/procs), and bulkWork, the routes that want every core.
//
// The routes, by family:
//
//   - root.go, health.go: GET / and GET /health;
//   - process*.go: /process (process.go the handlers, process_execute.go
//     POST /process and its request body, process_stream.go
//     the log stream and the streamed exec, process_frames.go and
//     process_json.go the wire shapes);
//   - filesystem*.go: /filesystem (filesystem.go listings, HEAD and deletes,
//     filesystem_download.go files as JSON or bytes, filesystem_upload.go
//     writes, filesystem_tree.go trees, filesystem_multipart.go multipart
//     uploads, filesystem_search.go and filesystem_find.go the searches,
//     filesystem_path.go the path after a route prefix); heavy_reads.go
//     bounds the answers built in memory;
//   - watch_stream.go: GET /watch/filesystem, a stream of changes;
//   - network*.go: /network, listening ports and port monitors;
//   - terminal_*.go: the web terminal (its page, its websocket, its
//     sessions);
//   - mcp.go: /mcp, the Model Context Protocol endpoint;
//   - platform.go: routes of the Blaxel platform this daemon does not have;
//   - unknown_routes.go: JSON 404 and 405; head.go: HEAD for every GET;
//   - stream_limit.go: the bound on streams served at once (--max-streams);
//     stream_deadline.go: a write deadline for streams that is moved
//     rarely (a watch event must not cost a timer change).
package server
