package mcp

import (
	"context"
	"encoding/json"
	"fmt"
)

// textContent is a tool result's text block.
type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// toolResult is a tools/call result.
type toolResult struct {
	Content           []textContent   `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
}

// callTool runs a tool. A bad tools/call request is a JSON-RPC error;
// arguments the tool's schema refuses, and the tool's own failures, are
// a result with isError, which the agent reads and can act on.
func (t *transport) callTool(ctx context.Context, p *callParams) (json.RawMessage, *rpcError) {
	tl, ok := t.tools.byName[p.Name]
	if !ok {
		return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown tool %q", p.Name)}
	}
	args, err := checkedArgs(tl.input, p.Arguments)
	if err != nil {
		return toolError(fmt.Sprintf("validating %q: %v", "arguments", err)), nil
	}
	out, err := tl.run(ctx, args)
	if err != nil {
		return toolError(err.Error()), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, &rpcError{Code: codeInternal, Message: fmt.Sprintf("marshaling output: %v", err)}
	}
	return mustMarshal(toolResult{Content: []textContent{{Type: "text", Text: string(b)}}, StructuredContent: b}), nil
}

// checkedArgs decodes the arguments (absent or null: none), checks them
// against the tool's schema, and encodes them again for the handler: a
// number such as 1.0 then reads as the integer it is.
func checkedArgs(s *argSchema, raw json.RawMessage) ([]byte, error) {
	m := map[string]any{}
	if !isNull(raw) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("unmarshaling arguments: %w", err)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unmarshaling arguments: json: cannot unmarshal %s into Go value of type map[string]interface {}", quoteValue(raw))
		}
		m = obj
	}
	if err := s.check(m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// toolError is the result of a tool call that failed.
func toolError(msg string) json.RawMessage {
	return mustMarshal(toolResult{Content: []textContent{{Type: "text", Text: msg}}, IsError: true})
}

// mustMarshal encodes a value of this package's own types, which always
// encode.
func mustMarshal(v any) json.RawMessage {
	b, err := marshalNoEscape(v)
	if err != nil {
		panic(fmt.Sprintf("mcp: %T: %v", v, err))
	}
	return b
}
