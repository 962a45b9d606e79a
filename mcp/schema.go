package mcp

import (
	"fmt"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// addTool registers a tool whose input schema is inferred from In, with
// every optional argument also accepting null. Agents and client libraries
// send null for an argument they do not give; inferred as is, the schema
// would refuse it as a type error before the tool runs. A null reaches the
// handler as the field's zero value, the same as an absent argument.
func addTool[In, Out any](s *sdk.Server, t *sdk.Tool, h sdk.ToolHandlerFor[In, Out]) {
	t.InputSchema = argsSchema[In]()
	sdk.AddTool(s, t, h)
}

// argsSchema infers In's schema and makes its optional properties
// nullable. In is always a struct of this package, so a failure is a bug
// that any test of the tools finds; it panics as sdk.AddTool does for a bad
// schema.
func argsSchema[In any]() *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("mcp: input schema of %T: %v", *new(In), err))
	}
	for name, p := range s.Properties {
		if !slices.Contains(s.Required, name) {
			nullable(p)
		}
	}
	return s
}

// nullable lets p also be null.
func nullable(p *jsonschema.Schema) {
	switch {
	case p.Type != "":
		p.Types = []string{"null", p.Type}
		p.Type = ""
	case len(p.Types) > 0 && !slices.Contains(p.Types, "null"):
		p.Types = append([]string{"null"}, p.Types...)
	}
}
