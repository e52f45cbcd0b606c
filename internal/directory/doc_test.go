package directory

import (
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	elschema "github.com/elimity-com/scim/schema"
	"github.com/scimbridge/scimbridge/internal/schema"
)

func TestCheckImmutable(t *testing.T) {
	rt := &schema.ResourceType{Name: "Thing", Schema: elschema.Schema{ID: "urn:test:Thing", Attributes: elschema.Attributes{
		elschema.SimpleCoreAttribute(elschema.SimpleStringParams(elschema.StringParams{Name: "serial", Mutability: elschema.AttributeMutabilityImmutable()})),
		elschema.SimpleCoreAttribute(elschema.SimpleStringParams(elschema.StringParams{Name: "label"})),
	}}}
	cases := []struct {
		old, next schema.Doc
		ok        bool
	}{
		{schema.Doc{}, schema.Doc{"serial": "a"}, true},                            // set once
		{schema.Doc{"serial": "a"}, schema.Doc{"serial": "a", "label": "x"}, true}, // unchanged
		{schema.Doc{"serial": "a"}, schema.Doc{"serial": "b"}, false},              // changed
		{schema.Doc{"serial": "a"}, schema.Doc{"label": "x"}, false},               // cleared
		{schema.Doc{"label": "x"}, schema.Doc{"label": "y", "serial": "s"}, true},  // mutable change
	}
	for i, c := range cases {
		err := checkImmutable(rt, c.old, c.next)
		if c.ok != (err == nil) {
			t.Errorf("case %d: err = %v, want ok=%v", i, err, c.ok)
		}
		if se, isSCIM := err.(scimerrors.ScimError); err != nil && (!isSCIM || se.ScimType != scimerrors.ScimTypeMutability) {
			t.Errorf("case %d: error %v is not a mutability error", i, err)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"7f4cec5c-6c92-4502-b608-d3bd16f8d920": true, "7F4CEC5C-6C92-4502-B608-D3BD16F8D920": true,
		"": false, "abc": false, "7f4cec5c-6c92-4502-b608-d3bd16f8d92": false, "7f4cec5c-6c92-4502-b608-d3bd16f8d920\n": false,
	} {
		if validID(id) != want {
			t.Errorf("validID(%q) != %v", id, want)
		}
	}
}
