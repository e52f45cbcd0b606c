package filter_test

import (
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// TestNumberComparisons: integer and decimal attributes (a tenant's
// organisation fields) compare as numbers, bare or quoted; text
// operators and non-numbers are refused.
func TestNumberComparisons(t *testing.T) {
	reg, err := schema.New().WithOrgFields([]schema.OrgField{{Name: "fte", Type: "decimal"}, {Name: "headcount", Type: "integer"}})
	if err != nil {
		t.Fatal(err)
	}
	u := schema.OrgURN
	res := filter.Resource{"userName": "x", u: map[string]any{"fte": json.Number("0.50"), "headcount": json.Number("10")}}
	for f, want := range map[string]bool{
		u + `:headcount gt 9`: true, u + `:headcount lt 9`: false, u + `:headcount eq "10"`: true,
		u + `:fte eq 0.5`: true, u + `:fte ge 0.51`: false, u + `:fte ne 0.5`: false, u + `:fte pr`: true,
		u + `:headcount le 1e1`: true,
	} {
		e, err := filter.Parse(reg.User, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := filter.Eval(e, res); got != want {
			t.Errorf("%s = %v, want %v", f, got, want)
		}
	}
	for _, f := range []string{u + `:fte co "5"`, u + `:fte eq "half"`, u + `:fte eq true`, u + `:fte eq "1,5"`} {
		if _, err := filter.Parse(reg.User, f); err == nil {
			t.Errorf("%s parsed", f)
		}
	}
}
