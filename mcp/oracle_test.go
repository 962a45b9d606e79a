package mcp

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The MCP SDK, as the daemon served /mcp before this package answered by
// hand, is kept here as the oracle the hand-written handler is compared
// against (differential_test.go). It registers the very same tool
// handlers, with schemas inferred from their In and Out types.

// oracleHandler is the SDK's streamable HTTP handler with the daemon's
// options, serving the same tools as Handler.
func oracleHandler(svc Services) http.Handler {
	s := sdk.NewServer(&sdk.Implementation{Name: ServerName, Version: version(svc)}, nil)
	for _, t := range (&tools{svc: svc}).all() {
		oracleAdd(s, t)
	}
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: true})
}

// oracleAdd registers t with the SDK through its typed handler; the
// handler's types are only known by reflection here, so each In/Out pair
// the tools use is listed. A tool with a new pair fails loudly.
func oracleAdd(s *sdk.Server, t tool) {
	st := &sdk.Tool{Name: t.name, Description: t.description}
	switch h := t.handler.(type) {
	case func(context.Context, struct{}) (ListProcessesOut, error):
		addTyped(s, st, h)
	case func(context.Context, ExecuteIn) (ProcessInfo, error):
		addTyped(s, st, h)
	case func(context.Context, IdentifierIn) (ProcessInfo, error):
		addTyped(s, st, h)
	case func(context.Context, IdentifierIn) (LogsOut, error):
		addTyped(s, st, h)
	case func(context.Context, struct{}) (WorkingDirOut, error):
		addTyped(s, st, h)
	case func(context.Context, PathIn) (ListDirOut, error):
		addTyped(s, st, h)
	case func(context.Context, ReadFileIn) (ReadFileOut, error):
		addTyped(s, st, h)
	case func(context.Context, WriteFileIn) (PathOut, error):
		addTyped(s, st, h)
	case func(context.Context, EditFileIn) (EditFileOut, error):
		addTyped(s, st, h)
	case func(context.Context, DeleteIn) (PathOut, error):
		addTyped(s, st, h)
	case func(context.Context, FileSearchIn) (FileSearchOut, error):
		addTyped(s, st, h)
	case func(context.Context, GrepIn) (GrepOut, error):
		addTyped(s, st, h)
	case func(context.Context, RangeIn) (RangeOut, error):
		addTyped(s, st, h)
	case func(context.Context, ListDirIn) (ListDirRecOut, error):
		addTyped(s, st, h)
	default:
		panic(fmt.Sprintf("oracle: tool %s has a handler of a type not listed in oracleAdd: %T", t.name, t.handler))
	}
}

func addTyped[In, Out any](s *sdk.Server, t *sdk.Tool, h func(context.Context, In) (Out, error)) {
	t.InputSchema = inferredInput(reflect.TypeFor[In]())
	sdk.AddTool(s, t, func(ctx context.Context, _ *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		out, err := h(ctx, in)
		return nil, out, err
	})
}

// inferredInput is the input schema the daemon gave with the SDK: In's
// inferred schema with its optional properties also taking null.
func inferredInput(t reflect.Type) *jsonschema.Schema {
	s, err := jsonschema.ForType(t, nil)
	if err != nil {
		panic(fmt.Sprintf("input schema of %v: %v", t, err))
	}
	for name, p := range s.Properties {
		if !slices.Contains(s.Required, name) {
			switch {
			case p.Type != "":
				p.Types = []string{"null", p.Type}
				p.Type = ""
			case len(p.Types) > 0 && !slices.Contains(p.Types, "null"):
				p.Types = append([]string{"null"}, p.Types...)
			}
		}
	}
	return s
}

// inferredOutput is the output schema the SDK infers for Out.
func inferredOutput(t reflect.Type) *jsonschema.Schema {
	s, err := jsonschema.ForType(t, nil)
	if err != nil {
		panic(fmt.Sprintf("output schema of %v: %v", t, err))
	}
	return s
}
