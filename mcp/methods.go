package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// codeUnsupportedProtocolVersion is MCP's own JSON-RPC error code for a
// protocol version the server does not speak.
const codeUnsupportedProtocolVersion = -32022

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
	if string(m.params) == "null" && methods[m.method]&paramsOptional == 0 {
		if m.method == "initialize" {
			return nil, &rpcError{Code: 0, Message: `handling 'initialize': missing required "params"`}
		}
		return nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf(`handling '%s': invalid request: missing required "params"`, m.method)}
	}
	p, sdkType := paramsOf(m.method)
	if m.decoded != nil {
		p = m.decoded
	} else if p != nil && !isNull(m.params) {
		if err := decodeParams(m.params, p, sdkType); err != nil {
			if m.method == "initialize" {
				return nil, &rpcError{Code: 0, Message: "handling 'initialize': " + err.Error()}
			}
			return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("handling '%s': invalid params: %v", m.method, err)}
		}
	}
	result, e := t.run(ctx, m, p)
	if e != nil || !perRequest {
		return result, e
	}
	return t.complete(result), nil
}

// run answers a method, given its decoded params (paramsOf).
func (t *transport) run(ctx context.Context, m *message, p any) (json.RawMessage, *rpcError) {
	switch m.method {
	case "initialize":
		return t.initialize(p.(*initializeParams)), nil
	case "server/discover":
		return t.discover(), nil
	case "ping", "logging/setLevel":
		return json.RawMessage(`{}`), nil
	case "tools/list":
		return t.listTools(p.(*cursorParams))
	case "tools/call":
		return t.callTool(ctx, p.(*callParams))
	case "prompts/list":
		return emptyList("prompts")
	case "resources/list":
		return emptyList("resources")
	case "resources/templates/list":
		return emptyList("resourceTemplates")
	}
	return nil, noSuchFeature(m.method, p)
}

// metaParams is the _meta every params type of the SDK has: a _meta that
// is not an object makes the params invalid, as there.
type metaParams struct {
	Meta map[string]any `json:"_meta"`
}

// The params of the methods, with the fields this server reads, of the
// types the SDK gives them. Other fields are not read, nor checked.
type (
	initializeParams struct {
		metaParams
		ProtocolVersion string `json:"protocolVersion"`
	}
	cursorParams struct {
		metaParams
		Cursor string `json:"cursor"`
	}
	callParams struct {
		metaParams
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	nameParams struct {
		metaParams
		Name string `json:"name"`
	}
	uriParams struct {
		metaParams
		URI string `json:"uri"`
	}
	levelParams struct {
		metaParams
		Level string `json:"level"`
	}
	completeParams struct {
		metaParams
		Argument struct {
			Name string `json:"name"`
		} `json:"argument"`
		Ref *struct{} `json:"ref"`
	}
)

// paramsOf is a new value to decode a method's params into, and the name
// of the SDK's type for them, which its errors give. Params that do not
// decode (not an object, a _meta or a field of the wrong type) are invalid
// for every method, as with the SDK. It is nil for the methods whose
// params are not read.
func paramsOf(method string) (any, string) {
	switch method {
	case "initialize":
		return &initializeParams{}, "mcp.initializeParamsV2"
	case "ping":
		return &metaParams{}, "mcp.PingParams"
	case "logging/setLevel":
		return &levelParams{}, "mcp.SetLoggingLevelParams"
	case "tools/list":
		return &cursorParams{}, "mcp.ListToolsParams"
	case "tools/call":
		return &callParams{}, "mcp.CallToolParamsRaw"
	case "prompts/list":
		return &cursorParams{}, "mcp.ListPromptsParams"
	case "prompts/get":
		return &nameParams{}, "mcp.GetPromptParams"
	case "resources/list":
		return &cursorParams{}, "mcp.ListResourcesParams"
	case "resources/templates/list":
		return &cursorParams{}, "mcp.ListResourceTemplatesParams"
	case "resources/read":
		return &uriParams{}, "mcp.ReadResourceParams"
	case "resources/subscribe":
		return &uriParams{}, "mcp.SubscribeParams"
	case "resources/unsubscribe":
		return &uriParams{}, "mcp.UnsubscribeParams"
	case "completion/complete":
		return &completeParams{}, "mcp.CompleteParams"
	}
	return nil, ""
}

// noSuchFeature is the error of a call to a feature the server does not
// offer (prompts, resources, completion, subscriptions), as the SDK
// answered it for a server without them.
func noSuchFeature(method string, p any) *rpcError {
	switch method {
	case "prompts/get":
		return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown prompt %q", p.(*nameParams).Name)}
	case "resources/read":
		data, _ := json.Marshal(map[string]string{"uri": p.(*uriParams).URI})
		return &rpcError{Code: codeInvalidParams, Message: "Resource not found", Data: data}
	case "completion/complete":
		c := p.(*completeParams)
		if c.Ref == nil {
			return &rpcError{Code: codeInvalidParams, Message: "invalid params: missing required 'ref' field"}
		}
		if c.Argument.Name == "" {
			return &rpcError{Code: codeInvalidParams, Message: "invalid params: missing required 'argument.name' field"}
		}
	}
	return methodNotFound(method)
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
// one: the server's identity and that the result is complete. Results are
// this package's objects, none with these keys: the fields are added
// before the closing brace, not by decoding and encoding the whole result
// again (the tools list, a file read).
func (t *transport) complete(result json.RawMessage) json.RawMessage {
	meta := mustMarshal(map[string]serverInfo{"io.modelcontextprotocol/serverInfo": t.server})
	b := make([]byte, 0, len(result)+len(meta)+64)
	b = append(b, result[:len(result)-1]...) // without its "}"
	if len(result) > len("{}") {
		b = append(b, ',')
	}
	b = append(b, `"_meta":`...)
	b = append(b, meta...)
	return append(b, `,"resultType":"complete"}`...)
}

// initialize answers the version the client asked for when it is one of
// the negotiated ones, else the newest negotiated one (2026-07-28 is not
// negotiated: it has no initialize).
func (t *transport) initialize(p *initializeParams) json.RawMessage {
	v := version20251125
	if slices.Contains(supportedVersions, p.ProtocolVersion) && p.ProtocolVersion < version20260728 {
		v = p.ProtocolVersion
	}
	return mustMarshal(struct {
		Capabilities    json.RawMessage `json:"capabilities"`
		ProtocolVersion string          `json:"protocolVersion"`
		ServerInfo      serverInfo      `json:"serverInfo"`
	}{capabilities, v, t.server})
}

// listTools answers every tool in one page: a cursor is never given, so
// any cursor a client sends is invalid.
func (t *transport) listTools(p *cursorParams) (json.RawMessage, *rpcError) {
	if p.Cursor != "" {
		return nil, &rpcError{Code: codeInvalidParams, Message: "invalid params"}
	}
	return t.tools.listResult, nil
}

// emptyList answers the list of a feature the server does not offer.
func emptyList(key string) (json.RawMessage, *rpcError) {
	return json.RawMessage(`{"cacheScope":"public","` + key + `":[],"ttlMs":0}`), nil
}
