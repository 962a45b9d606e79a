package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// tool is one MCP tool: what tools/list shows of it and how tools/call
// runs it. Its schemas are not here: they are static JSON (schemas.json),
// looked up by name when the registry is built.
type tool struct {
	name        string
	description string
	// handler is the typed handler, a toolHandler[In, Out]; kept for the
	// tests, which register the same handlers with the MCP SDK as the
	// oracle this package is compared against (oracle_test.go gives the
	// type the method that does it).
	handler any
	// run decodes checked arguments into In, calls the handler and
	// returns its Out (nil with an error).
	run func(ctx context.Context, args []byte) (any, error)
}

// toolHandler is a tool's typed handler: In are its arguments, Out its
// answer.
type toolHandler[In, Out any] func(context.Context, In) (Out, error)

// newTool makes a tool of a typed handler.
func newTool[In, Out any](name, description string, h func(context.Context, In) (Out, error)) tool {
	return tool{name: name, description: description, handler: toolHandler[In, Out](h),
		run: func(ctx context.Context, args []byte) (any, error) {
			var in In
			if err := json.Unmarshal(args, &in); err != nil {
				return nil, err
			}
			out, err := h(ctx, in)
			if err != nil {
				return nil, err
			}
			return out, nil
		}}
}

// registry is the tools with their schemas, and the tools/list answer,
// built once.
type registry struct {
	byName map[string]*registered
	// listResult is the tools/list result, marshalled once: it is the
	// same for every request.
	listResult json.RawMessage
}

// registered is a tool with its input schema, which tools/call checks
// arguments against. Outputs are not checked: they are Go values of the
// tool's Out type, whose schema TestSchemasMatchInference keeps right.
type registered struct {
	tool
	input *argSchema
}

// listedTool is a tool as tools/list shows it.
type listedTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
}

// newRegistry pairs each tool with its schemas. A tool without schemas,
// or a schema that does not parse, is a bug of this package that every
// test finds: it panics.
func newRegistry(ts []tool) *registry {
	texts := toolSchemas()
	r := &registry{byName: make(map[string]*registered, len(ts))}
	listed := make([]listedTool, 0, len(ts))
	for _, t := range ts {
		s, ok := texts[t.name]
		if !ok {
			panic(fmt.Sprintf("mcp: no schemas for tool %s in schemas.json", t.name))
		}
		in, err := parseSchema(s.Input)
		if err != nil {
			panic(fmt.Sprintf("mcp: input schema of %s: %v", t.name, err))
		}
		r.byName[t.name] = &registered{tool: t, input: in}
		listed = append(listed, listedTool{Name: t.name, Description: t.description, InputSchema: s.Input, OutputSchema: s.Output})
	}
	// The SDK listed tools by name; so does this, whatever the order of ts.
	sort.Slice(listed, func(i, j int) bool { return listed[i].Name < listed[j].Name })
	b, err := marshalNoEscape(struct {
		CacheScope string       `json:"cacheScope"`
		Tools      []listedTool `json:"tools"`
		TTLMs      int          `json:"ttlMs"`
	}{"public", listed, 0})
	if err != nil {
		panic(fmt.Sprintf("mcp: tools/list: %v", err))
	}
	r.listResult = b
	return r
}
