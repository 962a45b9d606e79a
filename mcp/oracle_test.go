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

// oracleAdd registers t with the SDK through its typed handler.
func oracleAdd(s *sdk.Server, t tool) {
	t.handler.(interface{ addToOracle(*sdk.Server, *sdk.Tool) }).addToOracle(s, &sdk.Tool{Name: t.name, Description: t.description})
}

// addToOracle registers h with the SDK, which infers its schemas from In
// and Out and decodes its arguments itself. The method is declared here,
// beside the SDK, so the package itself never links it.
func (h toolHandler[In, Out]) addToOracle(s *sdk.Server, t *sdk.Tool) {
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
