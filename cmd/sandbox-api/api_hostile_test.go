package main

// Black-box sweep of every route with hostile input: malformed, oversized
// and traversing paths, bodies of the wrong shape, bogus headers. Whatever
// comes in, the daemon must answer (within the hang guard) with a JSON
// success or a {"error": "..."} of the right class, never a 500, a hang or
// a panic, and
// must not create anything outside its working directory.
//
// Safety: the daemon runs as root and may legitimately write anywhere, so
// every write (PUT, DELETE, POST) only names paths inside d.workDir; only
// GET routes get traversals to real files outside it. Every name carries a
// unique marker, so a file that escaped can be found afterwards.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

const (
	// hostileRequestTimeout bounds every request of the sweep: a hang
	// guard, not a timing (a 5 MB body takes seconds on a loaded machine).
	hostileRequestTimeout = hangGuard
	// hostileStreamGrace is how long a 200 stream is read before the
	// client hangs up: streams legitimately stay open. What the stream
	// says meanwhile is not checked.
	hostileStreamGrace = time.Second
)

// hostileCase is one request of the sweep.
type hostileCase struct {
	name   string // subtest name: route and variant
	method string
	// target is the request target exactly as sent on the wire (path and
	// query, already escaped): invalid escapes must reach the daemon as is.
	target string
	body   any // nil, string, []byte, or a value sent as JSON
	header []string
	// want, when set, is the exact status expected.
	want int
	// stream: a 200 may be a body that stays open (watch, log stream,
	// streamed exec), and a 101 a websocket; it is read for
	// hostileStreamGrace, then cut.
	stream bool
	// netHTTP is a status net/http itself answers before the daemon's
	// router, with its own text/plain body: 431 for a request line or
	// header block over MaxHeaderBytes, 400 for a request target
	// url.ParseRequestURI refuses (an invalid %-escape). Documented
	// exception to the JSON error rule: no handler runs.
	netHTTP int
	// allow500: a genuine read failure the contract answers 500 (in JSON).
	allow500 bool
}

// hostileMarker is unique per run and starts every name the sweep makes up.
func hostileMarker() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "hstl" + hex.EncodeToString(b[:])
}

// pathVariant is one hostile value for a path parameter.
type pathVariant struct {
	label   string
	escaped string // as it goes on the wire, after the route prefix
	// self: resolves to the working directory itself, so recursive deletes
	// must not be sent with it.
	self bool
	// netHTTP: see hostileCase.netHTTP.
	netHTTP int
	// allow500: see hostileCase.allow500.
	allow500 bool
}

// writePathVariants are hostile paths that, however the daemon reads them,
// stay inside workDir: they are safe for PUT, DELETE and POST. m is the
// marker plus a tag that keeps the names of different routes apart.
func writePathVariants(m, workDir string) []pathVariant {
	return []pathVariant{
		{label: "nul", escaped: m + "%00x"},
		{label: "nul-only", escaped: "%00"},
		{label: "bad-utf8", escaped: m + "%FF%FE"},
		{label: "name-5000", escaped: m + strings.Repeat("a", 5000)},
		{label: "name-10000", escaped: m + strings.Repeat("b", 10000)},
		// About the size of the header limit (64 KiB, plus net/http's 4 KiB of
		// slack): net/http may refuse it itself; otherwise ENAMETOOLONG, 400.
		{label: "path-70000", escaped: m + "/" + strings.Repeat("d/", 35000), netHTTP: http.StatusRequestHeaderFieldsTooLarge},
		{label: "deep-path-9000", escaped: strings.Repeat(m+"/", 9000/len(m)) + "f"},
		{label: "double-encoded", escaped: m + "%252Fx"},
		{label: "dotdot-inside", escaped: "sub%2F..%2F" + m},
		{label: "dot-slash", escaped: ".%2F.%2F" + m},
		{label: "newline", escaped: m + "%0Ax"},
		{label: "crlf", escaped: m + "%0D%0Ax"},
		{label: "control", escaped: m + "%01%1F%7F"},
		{label: "unicode", escaped: m + "-%C3%A9%E2%9C%93%F0%9F%98%80"},
		{label: "backslash", escaped: m + "%5C..%5Cx"},
		{label: "trailing-slash", escaped: m + "d/"},
		{label: "trailing-encoded-slash", escaped: m + "d%2F"},
		{label: "spaces", escaped: m + "%20%20"},
		{label: "bad-escape", escaped: m + "%zz", netHTTP: http.StatusBadRequest},
		{label: "truncated-escape", escaped: m + "%2", netHTTP: http.StatusBadRequest},
		{label: "lone-percent", escaped: "%", netHTTP: http.StatusBadRequest},
		{label: "abs-encoded", escaped: url.PathEscape(filepath.Join(workDir, m+"abs"))},
		{label: "abs-double-slash", escaped: filepath.Join(workDir, m+"dabs")}, // "prefix//tmp/..."
		{label: "empty", escaped: "", self: true},
		{label: "dot", escaped: ".", self: true},
	}
}

// readPathVariants add traversals to real files outside workDir: fine for
// reads.
func readPathVariants(m, workDir string) []pathVariant {
	return append(writePathVariants(m, workDir),
		pathVariant{label: "traversal-passwd", escaped: "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd"},
		pathVariant{label: "traversal-etc", escaped: "..%2F..%2F..%2F..%2F..%2F..%2Fetc"},
		pathVariant{label: "traversal-missing", escaped: "..%2F..%2F..%2F..%2F" + m},
		pathVariant{label: "raw-traversal", escaped: "../../../../../etc/hostname"},
		pathVariant{label: "abs-passwd", escaped: "%2Fetc%2Fpasswd"},
		pathVariant{label: "dev-zero", escaped: "%2Fdev%2Fzero"},
		// The kernel refuses to read /proc/self/mem at offset 0 (EIO): a real
		// read failure, not a bad request, so the contract's JSON 500 is right.
		pathVariant{label: "proc-self-mem", escaped: "%2Fproc%2Fself%2Fmem", allow500: true},
		pathVariant{label: "proc-self-environ", escaped: "%2Fproc%2Fself%2Fenviron"},
	)
}

// idVariants are hostile process, upload, session and asset identifiers.
func idVariants(m string) []pathVariant {
	return []pathVariant{
		{label: "traversal", escaped: "..%2F..%2F" + m},
		{label: "raw-dotdot", escaped: ".."},
		{label: "minus-one", escaped: "-1"},
		{label: "zero", escaped: "0"},
		{label: "pid-one", escaped: "1"}, // init: never a managed process
		{label: "huge-number", escaped: "99999999999999999999"},
		{label: "name-10000", escaped: m + strings.Repeat("n", 10000)},
		{label: "nul", escaped: m + "%00"},
		{label: "bad-utf8", escaped: "%FF%FE"},
		{label: "bad-escape", escaped: m + "%zz", netHTTP: http.StatusBadRequest},
		{label: "newline", escaped: m + "%0A"},
		{label: "unicode", escaped: m + "%E2%9C%93"},
		{label: "encoded-slash", escaped: m + "%2Fx"},
		{label: "space", escaped: "%20"},
		{label: "uuid-nil", escaped: "00000000-0000-0000-0000-000000000000"},
		{label: "uuid-of-nothing", escaped: "3f2b8c1e-4d5a-4b6c-8e7f-9a0b1c2d3e4f"},
		{label: "uuid-upper", escaped: "3F2B8C1E-4D5A-4B6C-8E7F-9A0B1C2D3E4F"},
		{label: "uuid-traversal", escaped: "3f2b8c1e-4d5a-4b6c-8e7f-9a0b1c2d3e4f%2F..%2F.."},
	}
}

// jsonShapeBodies are bodies of the wrong shape for any JSON route.
func jsonShapeBodies() []struct {
	label string
	body  any
} {
	return []struct {
		label string
		body  any
	}{
		{"empty", ""},
		{"open-brace", "{"},
		{"null", "null"},
		{"array", "[]"},
		{"number", "123"},
		{"string", `"s"`},
		{"trailing-garbage", "{} x"},
		{"two-objects", "{}{}"},
		{"bad-utf8-raw", []byte("\xff\xfe{}")},
		{"deep-array", strings.Repeat("[", 100000)},
		{"deep-object", strings.Repeat(`{"a":`, 50000)},
	}
}

// hostileCases builds the whole sweep. ok is an ended process's name,
// uploads are upload ids a case may consume, file is a regular file inside
// workDir.
func hostileCases(d *daemon, m, ok, file string, uploads []string) []hostileCase {
	var cs []hostileCase
	add := func(c hostileCase) { cs = append(cs, c) }
	workDir := d.workDir

	// ---- every route: hostile path or identifier values ----
	type pathRoute struct {
		tag, method, prefix, query string
		body                       any
		header                     []string
		read, stream, recursiveDel bool
	}
	pathRoutes := []pathRoute{
		{tag: "fs-get", method: "GET", prefix: "/filesystem/", read: true},
		{tag: "fs-get-download", method: "GET", prefix: "/filesystem/", query: "?download=true", read: true},
		{tag: "fs-put", method: "PUT", prefix: "/filesystem/", body: map[string]any{"content": "x"}},
		{tag: "fs-put-dir", method: "PUT", prefix: "/filesystem/", body: map[string]any{"isDirectory": true}},
		{tag: "fs-put-raw", method: "PUT", prefix: "/filesystem/", body: "raw", header: []string{"Content-Type", "application/octet-stream"}},
		{tag: "fs-delete", method: "DELETE", prefix: "/filesystem/", recursiveDel: true},
		{tag: "tree-get", method: "GET", prefix: "/filesystem/tree/", read: true},
		{tag: "tree-put", method: "PUT", prefix: "/filesystem/tree/", body: map[string]any{"files": map[string]string{"f": "x"}}},
		{tag: "tree-delete", method: "DELETE", prefix: "/filesystem/tree/", recursiveDel: true},
		{tag: "mp-initiate", method: "POST", prefix: "/filesystem-multipart/initiate/"},
		{tag: "find", method: "GET", prefix: "/filesystem-find/", read: true},
		{tag: "fuzzy", method: "GET", prefix: "/filesystem-search/", query: "?query=x", read: true},
		{tag: "content", method: "GET", prefix: "/filesystem-content-search/", query: "?query=root", read: true},
		{tag: "watch", method: "GET", prefix: "/watch/filesystem/", read: true, stream: true},
	}
	for i, r := range pathRoutes {
		tm := fmt.Sprintf("%s-%d-", m, i)
		variants := writePathVariants(tm, workDir)
		if r.read {
			variants = readPathVariants(tm, workDir)
		}
		for _, v := range variants {
			query := r.query
			if r.recursiveDel && v.self {
				query = "?recursive=false" // the working dir is not empty: 422, never removed
			}
			c := hostileCase{
				name: r.tag + "/" + v.label, method: r.method, target: r.prefix + v.escaped + query,
				body: r.body, header: r.header, stream: r.stream,
			}
			c.netHTTP, c.allow500 = v.netHTTP, v.allow500
			add(c)
		}
	}

	idRoutes := []struct{ tag, method, pattern string }{
		{"proc-get", "GET", "/process/%s"},
		{"proc-stop", "DELETE", "/process/%s"},
		{"proc-kill", "DELETE", "/process/%s/kill"},
		{"proc-logs", "GET", "/process/%s/logs"},
		{"proc-logs-stream", "GET", "/process/%s/logs/stream"},
		{"proc-stdin-write", "POST", "/process/%s/stdin"},
		{"proc-stdin-close", "DELETE", "/process/%s/stdin"},
		{"net-proc-ports", "GET", "/network/process/%s/ports"},
		{"net-monitor-start", "POST", "/network/process/%s/monitor"},
		{"net-monitor-stop", "DELETE", "/network/process/%s/monitor"},
		{"mp-part", "PUT", "/filesystem-multipart/%s/part?partNumber=1"},
		{"mp-complete", "POST", "/filesystem-multipart/%s/complete"},
		{"mp-abort", "DELETE", "/filesystem-multipart/%s/abort"},
		{"mp-parts", "GET", "/filesystem-multipart/%s/parts"},
		{"term-session-delete", "DELETE", "/terminal/sessions/%s"},
		{"term-asset", "GET", "/terminal/assets/%s"},
	}
	idBodies := map[string]any{
		"proc-stdin-write":  "input",
		"net-monitor-start": map[string]any{"callback": "http://127.0.0.1:1/cb"},
		"mp-part":           "part",
		"mp-complete":       map[string]any{"parts": []any{}},
	}
	idHeaders := map[string][]string{"mp-part": {"Content-Type", "application/octet-stream"}}
	for _, r := range idRoutes {
		ids := idVariants(m)
		if r.tag == "term-asset" {
			ids = append(ids, pathVariant{label: "traversal-passwd", escaped: "..%2F..%2F..%2F..%2Fetc%2Fpasswd"})
		}
		for _, v := range ids {
			add(hostileCase{name: r.tag + "/" + v.label, method: r.method, target: strings.Replace(r.pattern, "%s", v.escaped, 1),
				body: idBodies[r.tag], header: idHeaders[r.tag], stream: r.tag == "proc-logs-stream", netHTTP: v.netHTTP})
		}
	}

	// ---- routes without parameters ----
	for _, c := range []hostileCase{
		{name: "health/get", method: "GET", target: "/health", want: 200},
		{name: "health/head", method: "HEAD", target: "/health", want: 200},
		{name: "health/query-garbage", method: "GET", target: "/health?%zz=%00&a=" + strings.Repeat("x", 10000), want: 200},
		{name: "proc-list/get", method: "GET", target: "/process", want: 200},
		{name: "proc-list/query-garbage", method: "GET", target: "/process?%zz", want: 200},
		{name: "net-ports/get", method: "GET", target: "/network/ports", want: 200},
		{name: "mp-list/get", method: "GET", target: "/filesystem-multipart", want: 200},
		{name: "term-sessions/get", method: "GET", target: "/terminal/sessions", want: 200},
		{name: "term-page/get", method: "GET", target: "/terminal", want: 200},
		{name: "fs-bare/get", method: "GET", target: "/filesystem", want: 200},
		{name: "find-bare/get", method: "GET", target: "/filesystem-find", want: 200},
		{name: "root/get", method: "GET", target: "/", want: 200},
		{name: "root/head", method: "HEAD", target: "/", want: 200},
		{name: "unknown/nul", method: "GET", target: "/%00", want: 404},
		{name: "unknown/deep", method: "GET", target: "/process/x/y/z/w", want: 404},
		{name: "unknown/prefix-lookalike", method: "GET", target: "/filesystemx/a", want: 404},
		{name: "unknown/long", method: "GET", target: "/" + strings.Repeat("z", 20000), want: 404},
		{name: "platform/upgrade", method: "POST", target: "/upgrade", body: "{", want: 400},
	} {
		add(c)
	}

	// Wrong methods on every route: JSON 405.
	for _, target := range []string{
		"/health", "/process", "/process/" + ok, "/process/" + ok + "/kill", "/process/" + ok + "/logs",
		"/process/" + ok + "/logs/stream", "/process/" + ok + "/stdin", "/filesystem/" + m, "/filesystem/tree/" + m,
		"/filesystem-multipart", "/filesystem-multipart/initiate/" + m, "/filesystem-multipart/x/part",
		"/filesystem-multipart/x/complete", "/filesystem-multipart/x/abort", "/filesystem-multipart/x/parts",
		"/filesystem-find", "/filesystem-search/x", "/filesystem-content-search", "/watch/filesystem/x",
		"/network/ports", "/network/process/1/ports", "/network/process/1/monitor",
		"/terminal", "/terminal/ws", "/terminal/sessions", "/terminal/sessions/x", "/terminal/assets/x",
	} {
		add(hostileCase{name: "wrong-method/PATCH" + strings.ReplaceAll(target, "/", "_"), method: "PATCH", target: target, want: 405})
	}

	// ---- hostile query values ----
	for _, q := range []struct{ label, target string }{
		{"find-type-bogus", "/filesystem-find?type=bogus"},
		{"find-max-negative", "/filesystem-find?maxResults=-1"},
		{"find-max-huge", "/filesystem-find?maxResults=99999999999999999999"},
		{"find-max-float", "/filesystem-find?maxResults=1.5"},
		{"find-bad-glob", "/filesystem-find?patterns=%5B"},
		{"find-many-globs", "/filesystem-find?patterns=" + strings.Repeat("a*,", 5000)},
		{"find-hidden-maybe", "/filesystem-find?excludeHidden=maybe"},
		{"find-bad-query-escape", "/filesystem-find?patterns=%zz"},
		{"find-nul-pattern", "/filesystem-find?patterns=%00"},
		{"fuzzy-nul-query", "/filesystem-search?query=%00"},
		{"fuzzy-long-query", "/filesystem-search?query=" + strings.Repeat("q", 20000)},
		{"fuzzy-bad-utf8", "/filesystem-search?query=%FF%FE"},
		{"content-no-query", "/filesystem-content-search"},
		{"content-empty-query", "/filesystem-content-search?query="},
		{"content-context-negative", "/filesystem-content-search?query=a&contextLines=-1"},
		{"content-context-huge", "/filesystem-content-search?query=a&contextLines=99999999999"},
		{"content-case-bogus", "/filesystem-content-search?query=a&caseSensitive=yes%21"},
		{"content-nul-query", "/filesystem-content-search?query=%00"},
		{"content-long-query", "/filesystem-content-search?query=" + strings.Repeat("q", 20000)},
		{"fs-get-download-bogus", "/filesystem/" + file + "?download=maybe"},
		{"fs-delete-recursive-bogus", "/filesystem/" + m + "-nope?recursive=maybe"},
		{"fs-put-raw-perm-bogus", "/filesystem/" + m + "-rawperm?permissions=abc"},
		{"fs-put-raw-perm-huge", "/filesystem/" + m + "-rawperm2?permissions=7777777"},
		{"watch-ignore-garbage", "/watch/filesystem/?ignore=%5B,%00," + strings.Repeat("x", 5000)},
		{"term-ws-no-upgrade", "/terminal/ws"},
		{"term-ws-no-upgrade-bad-cols", "/terminal/ws?cols=-1"},
	} {
		method, body, header := "GET", any(nil), []string(nil)
		if strings.HasPrefix(q.label, "fs-delete") {
			method = "DELETE"
		}
		if strings.HasPrefix(q.label, "fs-put-raw") {
			method, body, header = "PUT", "raw", []string{"Content-Type", "application/octet-stream"}
		}
		add(hostileCase{name: "query/" + q.label, method: method, target: q.target, body: body, header: header,
			stream: strings.HasPrefix(q.label, "watch")})
	}
	// The terminal's websocket with a real handshake, so that its
	// parameters are checked; a handshake that succeeds (101) is cut.
	wsHandshake := []string{"Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, q := range []struct{ label, query string }{
		{"cols-negative", "cols=-1"},
		{"rows-text", "rows=abc"},
		{"cols-huge", "cols=99999999999999999999"},
		{"shell-missing", "shell=%2Fnonexistent%2F" + m},
		{"shell-nul", "shell=%2Fbin%2Fsh%00"},
		{"workdir-missing", "workingDir=" + m + "-nodir"},
		{"workdir-nul", "workingDir=%00"},
		{"session-long", "sessionId=" + m + strings.Repeat("s", 10000)},
		{"bad-query-escape", "cols=%zz"},
	} {
		add(hostileCase{name: "term-ws/" + q.label, method: "GET", target: "/terminal/ws?" + q.query, header: wsHandshake, stream: true})
	}
	add(hostileCase{name: "term-ws/bad-version", method: "GET", target: "/terminal/ws",
		header: []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "99", "Sec-WebSocket-Key", "x"}, want: 400})

	// Multipart part numbers, on a real upload.
	for _, pn := range []struct{ label, value string }{
		{"missing", ""}, {"zero", "0"}, {"negative", "-1"}, {"over-max", "10001"},
		{"huge", "99999999999999999999"}, {"float", "1.5"}, {"text", "x"}, {"nul", "%00"},
	} {
		target := "/filesystem-multipart/" + uploads[0] + "/part"
		if pn.value != "" {
			target += "?partNumber=" + pn.value
		}
		add(hostileCase{name: "mp-part-number/" + pn.label, method: "PUT", target: target, body: "part",
			header: []string{"Content-Type", "application/octet-stream"}, want: 400})
	}

	// ---- hostile bodies ----
	over := func(limit int) string { return `{"x":"` + strings.Repeat("a", limit) + `"}` }
	type bodyCase struct {
		label string
		body  any
		want  int
	}
	jsonRoutes := []struct {
		tag, method, target string
		limit               int
		optional            bool // an empty body is valid
		bodies              []bodyCase
		header              []string
	}{
		{tag: "proc-exec", method: "POST", target: "/process", limit: 1 << 20, bodies: []bodyCase{
			{"command-number", map[string]any{"command": 1}, 400},
			{"command-array", map[string]any{"command": []string{"true"}}, 400},
			{"command-null", map[string]any{"command": nil}, 400},
			{"command-empty", map[string]any{"command": ""}, 400},
			{"command-nul", map[string]any{"command": "true\x00x"}, 400},
			{"timeout-negative", map[string]any{"command": "true", "timeout": -1}, 400},
			{"timeout-1e309", `{"command":"true","timeout":1e309}`, 400},
			{"timeout-float", `{"command":"true","timeout":1.5}`, 400},
			{"timeout-string", map[string]any{"command": "true", "timeout": "5"}, 400},
			// Seconds that overflow a time.Duration: 18446744074 s wraps to 0.29 s.
			{"timeout-overflow", map[string]any{"command": "true", "timeout": int64(9223372036854775807), "waitForCompletion": true}, 400},
			{"keepalive-timeout-wraps", map[string]any{"command": "true", "timeout": int64(18446744074), "keepAlive": true}, 400},
			{"ports-string", map[string]any{"command": "true", "waitForPorts": []any{"x"}}, 400},
			{"ports-zero", map[string]any{"command": "true", "waitForPorts": []int{0}}, 400},
			{"ports-70000", map[string]any{"command": "true", "waitForPorts": []int{70000}}, 400},
			{"ports-huge", map[string]any{"command": "true", "waitForPorts": []int64{99999999999}}, 400},
			{"ports-negative", map[string]any{"command": "true", "waitForPorts": []int{-80}}, 400},
			{"ports-object", map[string]any{"command": "true", "waitForPorts": map[string]any{}}, 400},
			{"env-number-value", map[string]any{"command": "true", "env": map[string]any{"A": 1}}, 400},
			{"env-array", map[string]any{"command": "true", "env": []any{}}, 400},
			{"env-key-equals", map[string]any{"command": "true", "env": map[string]string{"A=B": "x"}}, 0},
			{"env-key-nul", map[string]any{"command": "true", "env": map[string]string{"A\x00B": "x"}}, 0},
			{"env-value-nul", map[string]any{"command": "true", "env": map[string]string{"A": "x\x00y"}}, 400},
			{"env-key-empty", map[string]any{"command": "true", "env": map[string]string{"": "x"}}, 0},
			{"workdir-missing", map[string]any{"command": "true", "workingDir": m + "-nodir"}, 0},
			{"workdir-file", map[string]any{"command": "true", "workingDir": file}, 0},
			{"workdir-nul", map[string]any{"command": "true", "workingDir": m + "\x00"}, 400},
			{"workdir-number", map[string]any{"command": "true", "workingDir": 1}, 400},
			{"name-slash", map[string]any{"command": "true", "name": m + "/a/b"}, 0},
			{"name-dotdot", map[string]any{"command": "true", "name": "../../" + m}, 0},
			{"name-nul", map[string]any{"command": "true", "name": m + "\x00"}, 0},
			{"name-10000", map[string]any{"command": "true", "name": m + strings.Repeat("n", 10000)}, 0},
			{"name-number", map[string]any{"command": "true", "name": 5}, 400},
			{"keepalive-yes", map[string]any{"command": "true", "keepAlive": "yes"}, 400},
			{"maxrestarts-negative", map[string]any{"command": "true", "maxRestarts": -5, "restartOnFailure": true}, 0},
			{"maxrestarts-1e12", `{"command":"true","maxRestarts":1e12}`, 400},
			{"maxrestarts-huge", map[string]any{"command": "true", "maxRestarts": int64(1000000000000)}, 0},
			{"restart-number", map[string]any{"command": "true", "restartOnFailure": 1}, 400},
			{"stdin-string", map[string]any{"command": "true", "stdin": "x"}, 400},
			{"waitforcompletion-string", map[string]any{"command": "true", "waitForCompletion": "yes"}, 400},
			{"bad-utf8-in-string", []byte(`{"command":"true","name":"` + m + "\xff\xfe" + `"}`), 0},
			{"unknown-fields", map[string]any{"command": "true", "evil": map[string]any{"a": []any{1, 2}}}, 0},
		}},
		{tag: "proc-exec-stream", method: "POST", target: "/process", limit: 1 << 20,
			header: []string{"Accept", "text/event-stream"}, bodies: []bodyCase{
				{"command-number", map[string]any{"command": 1}, 400},
				{"ports-70000", map[string]any{"command": "true", "waitForPorts": []int{70000}}, 400},
				{"timeout-negative", map[string]any{"command": "true", "timeout": -1}, 400},
				{"valid-sleep", map[string]any{"command": "sleep 0.1", "timeout": 1}, 200},
			}},
		{tag: "proc-kill-body", method: "DELETE", target: "/process/" + ok + "/kill", limit: 4 << 10, optional: true, bodies: []bodyCase{
			{"signal-number", map[string]any{"signal": 9}, 400},
			{"signal-bogus", map[string]any{"signal": "SIGNOPE"}, 400},
			{"signal-huge", map[string]any{"signal": "99999"}, 400},
			{"signal-negative", map[string]any{"signal": "-9"}, 400},
			{"signal-nul", map[string]any{"signal": "KILL\x00"}, 400},
		}},
		{tag: "fs-put-body", method: "PUT", target: "/filesystem/" + m + "-putbody", limit: 32 << 20, bodies: []bodyCase{
			{"content-number", map[string]any{"content": 1}, 400},
			{"content-object", map[string]any{"content": map[string]any{}}, 400},
			{"isdir-yes", map[string]any{"isDirectory": "yes"}, 400},
			{"perm-999", map[string]any{"content": "x", "permissions": "999"}, 400},
			{"perm-minus-one", map[string]any{"content": "x", "permissions": "-1"}, 400},
			{"perm-abc", map[string]any{"content": "x", "permissions": "abc"}, 400},
			{"perm-7777777", map[string]any{"content": "x", "permissions": "7777777"}, 400},
			{"perm-number", map[string]any{"content": "x", "permissions": 644}, 400},
			{"perm-nul", map[string]any{"content": "x", "permissions": "0644\x00"}, 400},
		}},
		{tag: "tree-put-body", method: "PUT", target: "/filesystem/tree/" + m + "-tree", limit: 32 << 20, bodies: []bodyCase{
			{"files-missing", map[string]any{}, 400},
			{"files-null", map[string]any{"files": nil}, 400},
			{"files-array", map[string]any{"files": []any{}}, 400},
			{"files-string", map[string]any{"files": "x"}, 400},
			{"key-dotdot", map[string]any{"files": map[string]string{"../" + m + "-treeesc": "x"}}, 400},
			{"key-dotdot-mid", map[string]any{"files": map[string]string{"a/../../" + m + "-treeesc2": "x"}}, 400},
			{"key-absolute", map[string]any{"files": map[string]string{filepath.Join(workDir, m+"-treeabs"): "x"}}, 400},
			{"key-nul", map[string]any{"files": map[string]string{"a\x00b": "x"}}, 400},
			{"key-empty", map[string]any{"files": map[string]string{"": "x"}}, 400},
			{"key-file-and-dir", map[string]any{"files": map[string]string{"a": "x", "a/b": "y"}}, 400},
			{"value-object", map[string]any{"files": map[string]any{"a": map[string]any{"b": "c"}}}, 400},
			{"value-number", map[string]any{"files": map[string]any{"a": 1}}, 400},
			{"key-long", map[string]any{"files": map[string]string{strings.Repeat("k", 5000): "x"}}, 400},
		}},
		{tag: "mp-initiate-body", method: "POST", target: "/filesystem-multipart/initiate/" + m + "-init", limit: 4 << 10, optional: true, bodies: []bodyCase{
			{"perm-abc", map[string]any{"permissions": "abc"}, 400},
			{"perm-number", map[string]any{"permissions": 644}, 400},
			{"perm-7777777", map[string]any{"permissions": "7777777"}, 400},
		}},
		{tag: "net-monitor-body", method: "POST", target: "/network/process/" + ok + "/monitor", limit: 1 << 20, bodies: []bodyCase{
			{"callback-ftp", map[string]any{"callback": "ftp://127.0.0.1/x"}, 400},
			{"callback-empty", map[string]any{"callback": ""}, 400},
			{"callback-10000", map[string]any{"callback": "http://127.0.0.1:1/" + strings.Repeat("c", 10000)}, 0},
			{"callback-bad-ipv6", map[string]any{"callback": "http://[::1"}, 400},
			{"callback-number", map[string]any{"callback": 1}, 400},
			{"callback-nul", map[string]any{"callback": "http://127.0.0.1:1/\x00"}, 400},
			{"callback-file", map[string]any{"callback": "file:///etc/passwd"}, 400},
		}},
	}
	// Each multipart complete consumes an upload when it succeeds: one each.
	completeBodies := []bodyCase{
		{"parts-string", map[string]any{"parts": "x"}, 400},
		{"parts-empty-object", map[string]any{"parts": []any{map[string]any{}}}, 400},
		{"part-negative", map[string]any{"parts": []any{map[string]any{"partNumber": -1, "etag": "x"}}}, 400},
		{"part-duplicate", map[string]any{"parts": []any{map[string]any{"partNumber": 1, "etag": "x"}, map[string]any{"partNumber": 1, "etag": "x"}}}, 400},
		{"part-huge", `{"parts":[{"partNumber":99999999999999999999,"etag":"x"}]}`, 400},
		{"part-over-max", map[string]any{"parts": []any{map[string]any{"partNumber": 10001, "etag": "x"}}}, 400},
		{"part-etag-number", map[string]any{"parts": []any{map[string]any{"partNumber": 1, "etag": 5}}}, 400},
		{"part-size-negative", map[string]any{"parts": []any{map[string]any{"partNumber": 1, "etag": "x", "size": -1}}}, 400},
		{"parts-null", map[string]any{"parts": nil}, 0},
	}
	for i, b := range completeBodies {
		add(hostileCase{name: "mp-complete-body/" + b.label, method: "POST",
			target: "/filesystem-multipart/" + uploads[1+i] + "/complete", body: b.body, want: b.want})
	}
	for _, r := range jsonRoutes {
		bodies := r.bodies
		for _, s := range jsonShapeBodies() {
			want := 400
			switch {
			case s.label == "empty" && r.optional:
				want = 0
			case len(fmt.Sprint(s.body)) > r.limit:
				want = 413 // the deep nestings are over the small limits
			}
			bodies = append(bodies, bodyCase{s.label, s.body, want})
		}
		bodies = append(bodies, bodyCase{"over-limit", over(r.limit), 413})
		for _, b := range bodies {
			add(hostileCase{name: r.tag + "/" + b.label, method: r.method, target: r.target, body: b.body,
				header: r.header, want: b.want, stream: r.tag == "proc-exec-stream"})
		}
	}
	for _, s := range jsonShapeBodies() {
		add(hostileCase{name: "mp-complete-shape/" + s.label, method: "POST",
			target: "/filesystem-multipart/" + uploads[0] + "/complete", body: s.body, want: 400})
	}
	add(hostileCase{name: "mp-complete-shape/over-limit", method: "POST",
		target: "/filesystem-multipart/" + uploads[0] + "/complete", body: over(1 << 20), want: 413})
	add(hostileCase{name: "proc-stdin-body/over-limit", method: "POST", target: "/process/" + ok + "/stdin",
		body: strings.Repeat("s", 8<<20+1), want: 413})
	add(hostileCase{name: "proc-stdin-body/ended", method: "POST", target: "/process/" + ok + "/stdin", body: "x", want: 409})

	// ---- hostile headers ----
	big := strings.Repeat("h", 100<<10)
	for _, target := range []string{"/health", "/process", "/filesystem/" + m, "/mcp"} {
		add(hostileCase{name: "header-100k" + strings.ReplaceAll(target, "/", "_"), method: "GET", target: target,
			header: []string{"X-Hostile", big}, want: http.StatusRequestHeaderFieldsTooLarge, netHTTP: http.StatusRequestHeaderFieldsTooLarge})
	}
	for _, ct := range []struct{ label, value string }{
		{"multipart-no-boundary", "multipart/form-data"},
		{"multipart-empty-boundary", "multipart/form-data; boundary="},
		{"multipart-garbage-body", "multipart/form-data; boundary=xyz"},
		{"unparsable", ";;;"},
		{"text-plain", "text/plain"},
		{"json-utf16", "application/json; charset=utf-16"},
		{"huge-param", "application/json; x=" + strings.Repeat("p", 10000)},
	} {
		add(hostileCase{name: "content-type/fs-put-" + ct.label, method: "PUT", target: "/filesystem/" + m + "-ct-" + ct.label,
			body: "garbage\r\n--xyz\r\n", header: []string{"Content-Type", ct.value}})
		add(hostileCase{name: "content-type/mp-part-" + ct.label, method: "PUT", target: "/filesystem-multipart/" + uploads[0] + "/part?partNumber=2",
			body: "garbage\r\n--xyz\r\n", header: []string{"Content-Type", ct.value}})
	}
	for _, a := range []struct{ label, value string }{
		{"octet", "application/octet-stream"},
		{"octet-q0", "application/octet-stream;q=0"},
		{"garbage", ";;;,,,"},
		{"huge", strings.Repeat("text/html,", 3000)},
		{"event-stream", "text/event-stream"},
	} {
		add(hostileCase{name: "accept/fs-get-" + a.label, method: "GET", target: "/filesystem/" + file, header: []string{"Accept", a.value}})
		add(hostileCase{name: "accept/proc-logs-" + a.label, method: "GET", target: "/process/" + ok + "/logs", header: []string{"Accept", a.value}})
		add(hostileCase{name: "accept/proc-exec-" + a.label, method: "POST", target: "/process", body: "{", header: []string{"Accept", a.value}, want: 400})
	}
	add(hostileCase{name: "header/range-garbage", method: "GET", target: "/filesystem/" + file + "?download=true", header: []string{"Range", "bytes=99999999999999999999-"}})
	add(hostileCase{name: "header/if-modified-since-garbage", method: "GET", target: "/filesystem/" + file + "?download=true", header: []string{"If-Modified-Since", "yesterday, 99 Foo 1 25:61:61"}})
	add(hostileCase{name: "header/auth-garbage", method: "GET", target: "/process", header: []string{"Authorization", "Bearer " + strings.Repeat("t", 10000)}, want: 200})

	// ---- MCP: garbage JSON-RPC ----
	mcpHeaders := []string{"Content-Type", "application/json", "Accept", "application/json, text/event-stream"}
	for _, b := range []struct {
		label string
		body  any
	}{
		{"garbage", "garbage"},
		{"open-brace", "{"},
		{"empty", ""},
		{"null", "null"},
		{"array", "[]"},
		{"no-method", `{"jsonrpc":"2.0","id":1}`},
		{"bad-version", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`},
		{"unknown-method", `{"jsonrpc":"2.0","id":1,"method":"` + m + `"}`},
		{"tool-call-garbage", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fsReadFile","arguments":{"path":1}}}`},
		{"deep-array", strings.Repeat("[", 100000)},
		{"over-limit", `{"x":"` + strings.Repeat("a", 5<<20) + `"}`},
	} {
		add(hostileCase{name: "mcp/" + b.label, method: "POST", target: "/mcp", body: b.body, header: mcpHeaders})
	}
	add(hostileCase{name: "mcp/no-accept", method: "POST", target: "/mcp", body: `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, header: []string{"Content-Type", "application/json"}})
	add(hostileCase{name: "mcp/text-plain", method: "POST", target: "/mcp", body: "x", header: []string{"Content-Type", "text/plain", "Accept", "application/json, text/event-stream"}})
	add(hostileCase{name: "mcp/get", method: "GET", target: "/mcp"})
	add(hostileCase{name: "mcp/delete", method: "DELETE", target: "/mcp"})
	add(hostileCase{name: "mcp/put", method: "PUT", target: "/mcp", body: "x"})
	return cs
}

// run sends the case and checks the answer against the rules of the sweep.
func (c hostileCase) run(t *testing.T, d *daemon) {
	ctx, cancel := context.WithTimeout(context.Background(), hostileRequestTimeout)
	defer cancel()
	body, err := testsupport.BodyReader(c.body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, d.url+"/", body)
	if err != nil {
		t.Fatal(err)
	}
	// Opaque is written to the request line verbatim: invalid escapes and
	// raw "..", which url.Parse would refuse or clean, reach the daemon.
	path, query, _ := strings.Cut(c.target, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	start := time.Now()
	resp, err := d.stream.Do(req)
	if err != nil {
		t.Errorf("%s %.200s: no answer after %s: %v", c.method, c.target, time.Since(start).Round(time.Millisecond), err)
		return
	}
	defer resp.Body.Close()

	var data []byte
	if c.stream && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSwitchingProtocols) {
		// An open stream is fine: read what comes for a moment, then hang up
		// (a 101's body is the raw connection, which only Close ends).
		timer := time.AfterFunc(hostileStreamGrace, func() { cancel(); resp.Body.Close() })
		defer timer.Stop()
		data, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	} else if data, err = io.ReadAll(resp.Body); err != nil {
		t.Errorf("%s %.200s: status %d, body not finished after %s: %v", c.method, c.target, resp.StatusCode, time.Since(start).Round(time.Millisecond), err)
		return
	}

	status := resp.StatusCode
	switch {
	case status == http.StatusInternalServerError && c.allow500:
	case status == http.StatusInternalServerError, status == http.StatusBadGateway, status == http.StatusGatewayTimeout:
		t.Errorf("%s %.200s: status %d: %s", c.method, c.target, status, hostileShort(data))
	}
	if c.want != 0 && status != c.want {
		t.Errorf("%s %.200s: status %d, want %d: %s", c.method, c.target, status, c.want, hostileShort(data))
	}
	if status < 400 {
		return
	}
	if c.netHTTP != 0 && status == c.netHTTP && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return // net/http's own answer, before any handler ran
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %.200s: status %d with Content-Type %q, want application/json: %s", c.method, c.target, status, ct, hostileShort(data))
		return
	}
	if c.method == http.MethodHead {
		return
	}
	var e struct {
		Error *string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil || *e.Error == "" || dec.More() {
		t.Errorf(`%s %.200s: status %d, body is not {"error": "<message>"} (%v): %s`, c.method, c.target, status, err, hostileShort(data))
	}
}

// hostileShort bounds what of an answer goes into a failure message.
func hostileShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// rawHostileRequest sends bytes net/http's client would refuse to send and
// returns the status line's code, or 0 when the daemon hung up.
func rawHostileRequest(t *testing.T, d *daemon, raw string) (int, string) {
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(hostileRequestTimeout))
	go func() { _, _ = io.WriteString(conn, raw) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("raw request %.80q: no answer within %s", raw, hostileRequestTimeout)
		}
		return 0, ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type")
}

func TestHostileInputSweep(t *testing.T) {
	t.Parallel()
	start := time.Now()
	uploadDir := t.TempDir()
	d := startDaemon(t, daemonOptions{args: []string{"--upload-dir", uploadDir}})
	m := hostileMarker()

	// Fixtures: an ended process, a regular file, a non-empty working
	// directory, and uploads for the cases to poke at (one per complete case).
	ok := m + "-ok"
	if p := d.exec(map[string]any{"command": "true", "name": ok, "waitForCompletion": true}); p.Status != "completed" {
		t.Fatalf("fixture process: %+v", p)
	}
	file := m + "-file.txt"
	if err := os.WriteFile(filepath.Join(d.workDir, file), []byte("root line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var uploads []string
	for i := 0; i < 12; i++ {
		var up struct {
			UploadID string `json:"uploadId"`
		}
		d.doJSON(http.MethodPost, fmt.Sprintf("/filesystem-multipart/initiate/%s-up%d", m, i), nil, http.StatusOK, &up)
		uploads = append(uploads, up.UploadID)
	}

	cases := hostileCases(d, m, ok, file, uploads)
	seen := map[string]bool{}
	t.Run("sweep", func(t *testing.T) {
		for _, c := range cases {
			if seen[c.name] {
				t.Fatalf("duplicate case name %q", c.name)
			}
			seen[c.name] = true
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.run(t, d)
			})
		}
	})

	// Request lines net/http refuses itself, before the router: its own
	// text/plain 400 (documented exception; no handler runs).
	t.Run("raw", func(t *testing.T) {
		for _, r := range []struct{ label, raw string }{
			{"space-in-path", "GET /filesystem/a b HTTP/1.1\r\nHost: x\r\n\r\n"},
			{"nul-in-path", "GET /filesystem/\x00" + m + " HTTP/1.1\r\nHost: x\r\n\r\n"},
			{"no-host", "GET /health HTTP/1.1\r\n\r\n"},
			{"bad-version", "GET /health HTTP/9.9\r\nHost: x\r\n\r\n"},
			{"bad-header-line", "GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"},
			{"conflicting-lengths", "PUT /filesystem/" + m + "-cl HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"},
		} {
			code, ct := rawHostileRequest(t, d, r.raw)
			if code != http.StatusBadRequest && code != http.StatusHTTPVersionNotSupported {
				t.Errorf("%s: status %d, want net/http's 400 (or 505)", r.label, code)
			}
			if code != 0 && !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("%s: Content-Type %q from net/http", r.label, ct)
			}
		}
		// A body shorter than its Content-Length: the handler sees a cut
		// body and answers 400 in JSON (or the daemon drops the connection).
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(hostileRequestTimeout))
		_, _ = io.WriteString(conn, "PUT /filesystem/"+m+"-short HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nhello")
		_ = conn.(*net.TCPConn).CloseWrite()
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("short body: status %d %q, want a JSON 400", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("short body: no answer within %s", hostileRequestTimeout)
		}
		if _, err := os.Lstat(filepath.Join(d.workDir, m+"-short")); err == nil {
			t.Errorf("a cut-off upload left %s-short behind", m)
		}
	})

	// The daemon is alive and well, and logged no panic.
	resp, body := d.do(http.MethodGet, "/health", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/health after the sweep: status %d: %s", resp.StatusCode, body)
	}
	if log := d.stderr.String(); strings.Contains(strings.ToLower(log), "panic") {
		i := strings.Index(strings.ToLower(log), "panic")
		t.Errorf("the daemon log mentions a panic: %.2000s", log[max(0, i-500):])
	}

	// Nothing escaped the working directory: no name with the marker
	// anywhere else the hostile paths could have led.
	for _, dir := range []string{"/", "/tmp", os.TempDir(), filepath.Dir(d.workDir), filepath.Dir(filepath.Dir(d.workDir)), d.logDir, uploadDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), m) {
				t.Errorf("hostile name escaped the working directory: %s", filepath.Join(dir, e.Name()))
			}
		}
	}
	// Paths over the kernel's limits (path-70000, deep-path-9000 start
	// with the route's marker as a folder) were refused without creating
	// the parents that fit.
	for i := range 14 {
		tm := fmt.Sprintf("%s-%d-", m, i)
		for _, first := range []string{"d", tm} {
			if _, err := os.Lstat(filepath.Join(d.workDir, tm, first)); err == nil {
				t.Errorf("a refused deep path left folders behind: %s/%s/...", tm, first)
			}
		}
	}
	// Refused tree keys wrote nothing, even inside, and no write left a
	// temporary file behind.
	for _, name := range []string{m + "-treeesc", m + "-treeesc2", m + "-treeabs"} {
		if _, err := os.Lstat(filepath.Join(d.workDir, name)); err == nil {
			t.Errorf("a refused tree key was written: %s", name)
		}
	}
	_ = filepath.WalkDir(d.workDir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(e.Name(), ".sandbox-api-tmp") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	t.Logf("%d cases in %s", len(cases), time.Since(start).Round(time.Millisecond))
}
