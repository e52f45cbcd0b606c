package filter

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// TestEvalOneMatchesCandidates: a comparison inside an element reads the
// same without the candidate list as with it.
func TestEvalOneMatchesCandidates(t *testing.T) {
	ops := []Op{Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le, Pr}
	values := []any{nil, "", "work", "WORK", "wor", true, false, json.Number("3"), json.Number("-1.5"), []any{}, map[string]any{}, "2026-01-01T00:00:00Z"}
	wants := []Value{{Kind: KindString, Str: "work"}, {Kind: KindString, Str: ""}, {Kind: KindBool, Bool: true}, {Kind: KindNumber, Num: 3, Str: "3"}}
	rapid.Check(t, func(t *rapid.T) {
		c := &Compare{
			Attr:  Attr{Sub: "type", Type: rapid.SampledFrom([]string{"string", "boolean", "decimal", "dateTime"}).Draw(t, "type"), CaseExact: rapid.Bool().Draw(t, "exact")},
			Op:    rapid.SampledFrom(ops).Draw(t, "op"),
			Value: rapid.SampledFrom(wants).Draw(t, "want"),
		}
		elem := map[string]any{}
		if rapid.Bool().Draw(t, "has") {
			elem["type"] = rapid.SampledFrom(values).Draw(t, "value")
		}
		if got, want := eval(c, nil, elem), evalCompare(c, candidates(nil, c.Attr, elem)); got != want {
			t.Fatalf("%+v on %v: %v, with candidates %v", c, elem, got, want)
		}
	})
}
