package mcp

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite schemas.json from the schemas the SDK infers")

// TestSchemasMatchInference: the static schemas are those the SDK infers
// from each tool's In and Out types (inputs with nullable optionals), so a
// field added to a struct without its schema fails here. With
// -update-schemas the file is rewritten instead.
func TestSchemasMatchInference(t *testing.T) {
	ts := (&tools{}).all()
	want := map[string]map[string]any{}
	for _, tl := range ts {
		ht := reflect.TypeOf(tl.handler)
		want[tl.name] = map[string]any{
			"inputSchema":  inferredInput(ht.In(1)),
			"outputSchema": inferredOutput(ht.Out(0)),
		}
	}
	if *updateSchemas {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("schemas.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := toolSchemas()
	if len(got) != len(want) {
		t.Errorf("schemas.json has %d tools, the registry %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("schemas.json: no tool %s", name)
			continue
		}
		assertSameJSON(t, name+" inputSchema", g.Input, w["inputSchema"])
		assertSameJSON(t, name+" outputSchema", g.Output, w["outputSchema"])
	}
}

// assertSameJSON compares raw JSON to a value's JSON, decoded.
func assertSameJSON(t *testing.T, what string, raw json.RawMessage, v any) {
	t.Helper()
	wb, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	_ = json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs from inference:\n got %s\nwant %s", what, raw, wb)
	}
}
