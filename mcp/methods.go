package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// More JSON-RPC error codes, MCP's own.
const (
	codeMissingClientCapabilities  = -32021
	codeUnsupportedProtocolVersion = -32022
)

// errNotHandled is the error of a method the server does not know; its
// text is the SDK's.
var errNotHandled = errors.New("JSON RPC not handled")

// methodFlags say what checkRequest requires of a method.
type methodFlags uint8

const (
	isNotification methodFlags = 1 << iota
	paramsOptional
)

// methods are those a client may send to an MCP server, with their rules.
// Those of features this server does not offer (prompts, resources,
// completion, subscriptions) are known, so a client probing for them
// gets an answer rather than a transport error, as from the SDK.
var methods = map[string]methodFlags{
	"completion/complete":              0,
	"server/discover":                  paramsOptional,
	"initialize":                       0,
	"ping":                             paramsOptional,
	"prompts/list":                     paramsOptional,
	"prompts/get":                      0,
	"tools/list":                       paramsOptional,
	"tools/call":                       0,
	"resources/list":                   paramsOptional,
	"resources/templates/list":         paramsOptional,
	"resources/read":                   0,
	"logging/setLevel":                 0,
	"resources/subscribe":              0,
	"subscriptions/listen":             0,
	"resources/unsubscribe":            0,
	"notifications/cancelled":          isNotification | paramsOptional,
	"notifications/initialized":        isNotification | paramsOptional,
	"notifications/roots/list_changed": isNotification | paramsOptional,
	"notifications/progress":           isNotification,
}

// checkRequest refuses an unknown method, an id on a notification or
// none on a call, and a call without the params its method needs.
func checkRequest(m *message) error {
	flags, ok := methods[m.method]
	switch {
	case !ok:
		return fmt.Errorf("%w: %q unsupported", errNotHandled, m.method)
	case flags&isNotification != 0 && m.isCall():
		return fmt.Errorf("invalid request: unexpected id for %q", m.method)
	case flags&isNotification == 0 && !m.isCall():
		return fmt.Errorf("invalid request: missing id for %q", m.method)
	case flags&paramsOptional == 0 && len(m.params) == 0:
		return errors.New(`invalid request: missing required "params"`)
	}
	return nil
}

// serverInfo is the initialize answer's serverInfo.
type serverInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// capabilities are what the server offers: tools, and logging (the SDK
// server always announced it, though the tools log nothing).
var capabilities = json.RawMessage(`{"logging":{},"tools":{"listChanged":true}}`)

// dispatch runs one call and returns its result or its error. A call
// carrying the 2026-07-28 protocol in its _meta gets that protocol's
// answers: no initialize nor ping, and results that name the server.
func (t *transport) dispatch(ctx context.Context, m *message) (json.RawMessage, *rpcError) {
	meta := m.meta
	if meta != "" && !slices.Contains(supportedVersions, meta) {
		data, _ := json.Marshal(struct {
			Supported []string `json:"supported"`
			Requested string   `json:"requested"`
		}{supportedVersions, meta})
		return nil, &rpcError{Code: codeUnsupportedProtocolVersion, Message: "unsupported protocol version", Data: data}
	}
	perRequest := meta >= version20260728
	switch m.method {
	case "initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe":
		if perRequest {
			return nil, methodNotFound(m.method)
		}
	case "server/discover":
		if !perRequest {
			return nil, methodNotFound(m.method)
		}
	}
	if string(m.params) == "null" && methods[m.method]&paramsOptional == 0 && m.method != "initialize" {
		return nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf(`handling '%s': invalid request: missing required "params"`, m.method)}
	}
	result, e := t.run(ctx, m)
	if e != nil || !perRequest {
		return result, e
	}
	return t.complete(result), nil
}

// run answers a method.
func (t *transport) run(ctx context.Context, m *message) (json.RawMessage, *rpcError) {
	switch m.method {
	case "initialize":
		return t.initialize(m.params)
	case "server/discover":
		return t.discover(), nil
	case "ping", "logging/setLevel":
		return json.RawMessage(`{}`), nil
	case "tools/list":
		return t.listTools(m.params)
	case "tools/call":
		return t.callTool(ctx, m.params)
	case "prompts/list":
		return emptyList("prompts")
	case "resources/list":
		return emptyList("resources")
	case "resources/templates/list":
		return emptyList("resourceTemplates")
	}
	return nil, noSuchFeature(m)
}

// noSuchFeature is the error of a call to a feature the server does not
// offer (prompts, resources, completion, subscriptions), as the SDK
// answered it for a server without them.
func noSuchFeature(m *message) *rpcError {
	var p struct {
		Name     string          `json:"name"`
		URI      string          `json:"uri"`
		Ref      json.RawMessage `json:"ref"`
		Argument struct {
			Name string `json:"name"`
		} `json:"argument"`
	}
	_ = json.Unmarshal(m.params, &p)
	switch m.method {
	case "prompts/get":
		return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown prompt %q", p.Name)}
	case "resources/read":
		data, _ := json.Marshal(map[string]string{"uri": p.URI})
		return &rpcError{Code: codeInvalidParams, Message: "Resource not found", Data: data}
	case "completion/complete":
		if isNull(p.Ref) {
			return &rpcError{Code: codeInvalidParams, Message: "invalid params: missing required 'ref' field"}
		}
		if p.Argument.Name == "" {
			return &rpcError{Code: codeInvalidParams, Message: "invalid params: missing required 'argument.name' field"}
		}
	}
	return methodNotFound(m.method)
}

func methodNotFound(method string) *rpcError {
	return &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("method not found: %q", method)}
}

// discover is server/discover's result: what initialize told, for the
// per-request protocol.
func (t *transport) discover() json.RawMessage {
	return mustMarshal(struct {
		CacheScope        string          `json:"cacheScope"`
		Capabilities      json.RawMessage `json:"capabilities"`
		SupportedVersions []string        `json:"supportedVersions"`
		TTLMs             int             `json:"ttlMs"`
	}{"public", capabilities, supportedVersions, 0})
}

// complete adds to a result what the 2026-07-28 protocol adds to every
// one: the server's identity and that the result is complete.
func (t *transport) complete(result json.RawMessage) json.RawMessage {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(result, &fields); err != nil {
		return result // results are this package's objects: never
	}
	fields["_meta"] = mustMarshal(map[string]serverInfo{"io.modelcontextprotocol/serverInfo": t.server})
	fields["resultType"] = json.RawMessage(`"complete"`)
	return mustMarshal(fields)
}

// initialize answers the version the client asked for when it is one of
// the negotiated ones, else the newest negotiated one (2026-07-28 is not
// negotiated: it has no initialize).
func (t *transport) initialize(params json.RawMessage) (json.RawMessage, *rpcError) {
	if isNull(params) {
		return nil, &rpcError{Code: 0, Message: `handling 'initialize': missing required "params"`}
	}
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := decodeParams(params, &p, "mcp.initializeParamsV2"); err != nil {
		return nil, &rpcError{Code: 0, Message: "handling 'initialize': " + err.Error()}
	}
	v := version20251125
	if slices.Contains(supportedVersions, p.ProtocolVersion) && p.ProtocolVersion < version20260728 {
		v = p.ProtocolVersion
	}
	b, _ := marshalNoEscape(struct {
		Capabilities    json.RawMessage `json:"capabilities"`
		ProtocolVersion string          `json:"protocolVersion"`
		ServerInfo      serverInfo      `json:"serverInfo"`
	}{capabilities, v, t.server})
	return b, nil
}

// listTools answers every tool in one page: a cursor is never given, so
// any cursor a client sends is invalid.
func (t *transport) listTools(params json.RawMessage) (json.RawMessage, *rpcError) {
	var p struct {
		Cursor string `json:"cursor"`
	}
	if !isNull(params) {
		if err := decodeParams(params, &p, "mcp.ListToolsParams"); err != nil {
			return nil, &rpcError{Code: codeInvalidParams, Message: "handling 'tools/list': invalid params: " + err.Error()}
		}
	}
	if p.Cursor != "" {
		return nil, &rpcError{Code: codeInvalidParams, Message: "invalid params"}
	}
	return t.tools.listResult, nil
}

// emptyList answers the list of a feature the server does not offer.
func emptyList(key string) (json.RawMessage, *rpcError) {
	return json.RawMessage(`{"cacheScope":"public","` + key + `":[],"ttlMs":0}`), nil
}
