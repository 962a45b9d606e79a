package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// JSON-RPC error codes the answers use.
const (
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternal       = -32603
	// codeHeaderMismatch is MCP's: an Mcp-* header disagrees with the body.
	codeHeaderMismatch = -32020
)

// maxDepth bounds the nesting of a message, as the SDK's decoder does: a
// deeply nested body is refused before it is decoded.
const maxDepth = 1000

// message is one decoded JSON-RPC message: a request (method set, id nil
// for a notification) or a response the client sent (ignored).
type message struct {
	id     any // nil, int64 or string
	method string
	params json.RawMessage
	// meta is params._meta's protocol version, if any (metaVersion),
	// read once: the checks and the dispatch both need it.
	meta string
	// decoded is params as paramsOf decodes them, when the check of the
	// Mcp-Name header already did (nameOf): dispatch takes them as they
	// are rather than decoding a tool's arguments again.
	decoded any
	// isRequest is false for a response.
	isRequest bool
}

func (m *message) isCall() bool { return m.id != nil }

// decodeBody reads a POST body: one message, or a batch (a JSON array).
// Like the SDK, only the first JSON value of the body is read.
func decodeBody(body []byte) (msgs []message, batch bool, err error) {
	if err := checkDepth(body); err != nil {
		return nil, false, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
	}
	var raws []json.RawMessage
	if firstValue(body, &raws) == nil {
		if len(raws) == 0 {
			return nil, true, errors.New("empty batch")
		}
		for _, raw := range raws {
			m, err := decodeMessage(raw)
			if err != nil {
				return nil, true, err
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	m, err := decodeMessage(body)
	if err != nil {
		return nil, false, err
	}
	return []message{m}, false, nil
}

// decodeMessage reads one message, with the SDK's rules: "jsonrpc" must be
// "2.0"; an id is a number (truncated to an integer) or a string; a
// message with a method is a request, else it needs an id (a response).
func decodeMessage(data []byte) (message, error) {
	// A map keeps the exact key names (encoding/json would match struct
	// fields in any case, the SDK's decoder does not).
	var fields map[string]json.RawMessage
	if err := firstValue(data, &fields); err != nil {
		return message{}, fmt.Errorf("unmarshaling jsonrpc message: %w", typeError(data, "jsonrpc2.wireDecode", err))
	}
	var version string
	if raw := fields["jsonrpc"]; !isNull(raw) {
		if err := json.Unmarshal(raw, &version); err != nil {
			return message{}, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
		}
	}
	if version != "2.0" {
		return message{}, fmt.Errorf("invalid message version tag %q; expected %q", version, "2.0")
	}
	id, err := decodeID(fields["id"])
	if err != nil {
		return message{}, err
	}
	if raw, ok := fields["method"]; ok {
		var method string // null reads as ""
		if err := json.Unmarshal(raw, &method); err != nil {
			return message{}, fmt.Errorf("unmarshaling jsonrpc message: %w", typeError(raw, "string", err))
		}
		params := fields["params"]
		return message{id: id, method: method, params: params, meta: metaVersion(params), isRequest: true}, nil
	}
	if id == nil {
		return message{}, errors.New("invalid request")
	}
	return message{id: id}, nil
}

// decodeID reads an id: absent or null is none (a notification).
func decodeID(raw json.RawMessage) (any, error) {
	if isNull(raw) {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("unmarshaling jsonrpc message: %w", err)
	}
	switch v := v.(type) {
	case float64:
		return int64(v), nil
	case string:
		return v, nil
	}
	return nil, fmt.Errorf("parse error: invalid ID type %s", goTypeName(v))
}

// goTypeName names a decoded JSON value's type as Go's %T does.
func goTypeName(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case []any:
		return "[]interface {}"
	case map[string]any:
		return "map[string]interface {}"
	}
	return fmt.Sprintf("%T", v)
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// firstValue decodes the first JSON value of data into v, ignoring what
// follows, as a stream decoder does.
func firstValue(data []byte, v any) error {
	return json.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// checkDepth refuses data nested deeper than maxDepth, counting brackets
// outside strings, before any decoder recurses into it.
func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("json: exceeded maximum nesting depth of %d", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// typeError words a JSON value of the wrong kind as the SDK's decoder
// did, naming the value and the SDK's Go type; other errors pass as they
// are (their texts differ from the SDK's: another decoder).
func typeError(raw []byte, sdkType string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return fmt.Errorf("json: cannot unmarshal %s into Go value of type %s", quoteValue(raw), sdkType)
	}
	return err
}

// quoteValue shows a JSON value in an error as the SDK's decoder
// (segmentio/encoding) does: quoted, cut after 32 bytes. An error never
// echoes a whole body back.
func quoteValue(raw []byte) string {
	if len(raw) < 32 {
		return strconv.Quote(string(raw))
	}
	return strconv.Quote(string(raw[:32]) + "...")
}

// decodeParams decodes a method's params, with the SDK's error text.
func decodeParams(raw json.RawMessage, v any, sdkType string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("unmarshaling %q into a *%s: %w", []byte(raw), sdkType, typeError(raw, sdkType, err))
	}
	return nil
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// errorResponse is a JSON-RPC error response.
type errorResponse struct {
	Version string    `json:"jsonrpc"`
	ID      any       `json:"id,omitempty"`
	Error   *rpcError `json:"error"`
}

// marshalNoEscape is json.Marshal without HTML escaping, as the SDK
// writes its messages.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// encodeResponse is the wire form of a response to id: its error, or its
// result. A result is JSON this package made (mustMarshal, or a constant),
// so it is spliced in as it is: an encoder would scan and copy it again,
// and a file read or a log is up to hundreds of KiB.
func encodeResponse(id any, result json.RawMessage, rerr *rpcError) []byte {
	if rerr != nil {
		return mustMarshal(errorResponse{Version: "2.0", ID: id, Error: rerr})
	}
	idj := mustMarshal(id)
	b := make([]byte, 0, len(`{"jsonrpc":"2.0","id":,"result":}`)+len(idj)+len(result))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, idj...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}
