package mcp

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// argSchema is the subset of JSON Schema the tools' schemas use (types,
// properties, required, additionalProperties, items), parsed once, to
// check tools/call arguments. Its error texts are those of the SDK's
// validator (github.com/google/jsonschema-go), which agents have seen.
type argSchema struct {
	path       string   // JSON pointer from the root, as errors name it
	types      []string // empty: any
	properties map[string]*argSchema
	names      []string // of properties, in schema order
	required   []string
	// additional is additionalProperties: nil allows anything, noExtra
	// (false) refuses any property not in properties.
	additional *argSchema
	noExtra    bool
	items      *argSchema
}

// parseSchema reads a schema the package ships.
func parseSchema(raw json.RawMessage) (*argSchema, error) {
	return parseSchemaAt(raw, "")
}

func parseSchemaAt(raw json.RawMessage, path string) (*argSchema, error) {
	var r struct {
		Type                 json.RawMessage            `json:"type"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
		Items                json.RawMessage            `json:"items"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &argSchema{path: path, required: r.Required}
	if len(r.Type) > 0 {
		var one string
		if json.Unmarshal(r.Type, &one) == nil {
			s.types = []string{one}
		} else if err := json.Unmarshal(r.Type, &s.types); err != nil {
			return nil, fmt.Errorf("%s/type: %w", path, err)
		}
	}
	var err error
	if len(r.Properties) > 0 {
		s.properties = make(map[string]*argSchema, len(r.Properties))
		for name, p := range r.Properties {
			if s.properties[name], err = parseSchemaAt(p, path+"/properties/"+name); err != nil {
				return nil, err
			}
			s.names = append(s.names, name)
		}
		sort.Strings(s.names)
	}
	switch string(r.AdditionalProperties) {
	case "":
	case "false":
		s.noExtra = true
	default:
		if s.additional, err = parseSchemaAt(r.AdditionalProperties, path+"/additionalProperties"); err != nil {
			return nil, err
		}
	}
	if len(r.Items) > 0 {
		if s.items, err = parseSchemaAt(r.Items, path+"/items"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// name is how errors name the schema: the root is "root".
func (s *argSchema) name() string {
	if s.path == "" {
		return "root"
	}
	return s.path
}

// check validates a decoded JSON value (from encoding/json into any).
func (s *argSchema) check(v any) error {
	if err := s.checkHere(v); err != nil {
		return fmt.Errorf("validating %s: %w", s.name(), err)
	}
	return nil
}

func (s *argSchema) checkHere(v any) error {
	if len(s.types) > 0 {
		got := jsonType(v)
		if !slices.Contains(s.types, got) && !(got == "integer" && slices.Contains(s.types, "number")) {
			if len(s.types) == 1 {
				return fmt.Errorf("type: %s has type %q, want %q", show(v), got, s.types[0])
			}
			return fmt.Errorf("type: %s has type %q, want one of %q", show(v), got, strings.Join(s.types, ", "))
		}
	}
	switch x := v.(type) {
	case []any:
		if s.items != nil {
			for _, e := range x {
				if err := s.items.check(e); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		return s.checkObject(x)
	}
	return nil
}

// checkObject checks properties, then additional ones, then required,
// the order the SDK's validator goes in.
func (s *argSchema) checkObject(m map[string]any) error {
	for _, name := range s.names {
		if e, ok := m[name]; ok {
			if err := s.properties[name].check(e); err != nil {
				return err
			}
		}
	}
	var extra []string
	for name := range m {
		if _, ok := s.properties[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if s.noExtra && len(extra) > 0 {
		return fmt.Errorf("unexpected additional properties %q", extra)
	}
	if s.additional != nil {
		for _, name := range extra {
			if err := s.additional.check(m[name]); err != nil {
				return err
			}
		}
	}
	var missing []string
	for _, name := range s.required {
		if _, ok := m[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("required: missing properties: %q", missing)
	}
	return nil
}

// jsonType is the JSON Schema type of a decoded value; a number without a
// fraction is an integer.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if _, f := math.Modf(x); f == 0 {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// show prints a value as the SDK's validator does (Go's %v of it; a null
// is shown as the invalid reflect.Value it is there).
func show(v any) string {
	if v == nil {
		return "<invalid reflect.Value>"
	}
	return fmt.Sprintf("%v", v)
}
