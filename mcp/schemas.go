package mcp

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// schemasJSON holds every tool's input and output schema, by tool name:
// static text, so no schema is inferred by reflection at run time. It is
// what the SDK infers from the tools' In and Out types, with every
// optional argument also taking null (agents and client libraries send
// null for an argument they do not give). TestSchemasMatchInference
// keeps the two equal; `go test ./mcp -run TestSchemasMatchInference
// -update-schemas` rewrites it after a change to an In or Out struct.
//
//go:embed schemas.json
var schemasJSON []byte

// toolSchema is one tool's schemas, as JSON.
type toolSchema struct {
	Input  json.RawMessage `json:"inputSchema"`
	Output json.RawMessage `json:"outputSchema"`
}

// toolSchemas decodes schemasJSON. It is embedded, so a failure is a bug
// any test finds.
func toolSchemas() map[string]toolSchema {
	var m map[string]toolSchema
	if err := json.Unmarshal(schemasJSON, &m); err != nil {
		panic(fmt.Sprintf("mcp: schemas.json: %v", err))
	}
	return m
}
