package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/internal/schema"
)

func TestWithOrgFields(t *testing.T) {
	base := schema.New()
	if reg, err := base.WithOrgFields(nil); err != nil || reg != base {
		t.Fatalf("no fields: %p %v, want the base registry", reg, err)
	}
	reg, err := base.WithOrgFields([]schema.OrgField{{Name: "hireDate", Type: "date"}, {Name: "fte", Type: "decimal"}, {Name: "n", Type: "integer"}})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Group != base.Group || len(reg.User.Extensions) != len(base.User.Extensions)+1 || len(base.Schemas())+1 != len(reg.Schemas()) {
		t.Fatal("the view does not add exactly the organisation extension")
	}
	for _, f := range []schema.OrgField{{Name: "1x", Type: "string"}, {Name: "a b", Type: "string"}, {Name: "x", Type: "money"}} {
		if _, err := base.WithOrgFields([]schema.OrgField{f}); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	u := schema.OrgURN
	good, err := reg.User.Normalize(map[string]any{"userName": "a", u: map[string]any{"hiredate": "2024-02-29", "fte": "12.50", "n": json.Number("3")}})
	if err != nil {
		t.Fatal(err)
	}
	org := good[u].(map[string]any)
	if org["hireDate"] != "2024-02-29" || org["fte"] != json.Number("12.50") || org["n"] != json.Number("3") {
		t.Fatalf("normalised: %v", org)
	}
	for _, bad := range []map[string]any{{"hireDate": "2023-02-29"}, {"hireDate": "2024-2-1"}, {"fte": "12,50"}, {"fte": "1e5x"}, {"n": "3"}} {
		if _, err := reg.User.Normalize(map[string]any{"userName": "a", u: bad}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if doc, err := base.User.Normalize(map[string]any{"userName": "a", u: map[string]any{"fte": "x"}}); err != nil || doc[u] != nil {
		t.Fatalf("the base registry ignores the extension: %v %v", doc, err)
	}
}
