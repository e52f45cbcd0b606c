package csvbridge

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"pgregory.net/rapid"
)

// viewColumns are the columns the property below reads: every built-in
// profile's, the scim profile's default paths, and path columns of every
// kind (sub-attributes, value paths, multi-valued, read-only, extension
// members, a never-returned attribute).
func viewColumns(t *testing.T, reg *schema.Registry) []exportColumn {
	t.Helper()
	paths := append([]string{`emails[primary eq true].value`, `phoneNumbers[type eq "work"].display`, `addresses[type eq "work"].locality`,
		"groups.value", "meta.created", "meta.lastModified", "x509Certificates.value", "ims.value",
		schema.SupportURN + ":sourceUserNames.value", schema.SupportURN + ":lastLoginAt", schema.EnterpriseURN + ":manager.displayName"},
		scimExportColumns...)
	cols, err := pathColumns(reg.User, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range BuiltinProfiles() {
		if p.HeadersArePaths {
			continue
		}
		pc, err := profileColumns(p, reg.User, nil)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		cols = append(cols, pc...)
	}
	return cols
}

// anyValue is a random JSON value of any kind, shallow.
func anyValue(t *rapid.T, label string, depth int) any {
	kinds := 5
	if depth < 2 {
		kinds = 7
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, label+".kind") {
	case 0:
		return rapid.SampledFrom([]string{"", "x", "work", "home", "true", "Tier 1+", "a\"b\\c\n", "\u00e9\U0001F600", "support-tier-1-operations", "=1+2"}).Draw(t, label)
	case 1:
		return rapid.Bool().Draw(t, label)
	case 2:
		return json.Number(rapid.SampledFrom([]string{"0", "-1", "2.50", "1e3", "12345678901234567890"}).Draw(t, label))
	case 3:
		return nil
	case 4:
		return rapid.StringN(0, 8, -1).Draw(t, label)
	case 5:
		var list []any
		for i := range rapid.IntRange(0, 3).Draw(t, label+".len") {
			list = append(list, anyValue(t, fmt.Sprintf("%s[%d]", label, i), depth+1))
		}
		return list
	}
	m := map[string]any{}
	for _, k := range rapid.SliceOfDistinct(rapid.SampledFrom(subNames), func(s string) string { return s }).Draw(t, label+".keys") {
		m[k] = anyValue(t, label+"."+k, depth+1)
	}
	return m
}

// multiNames are the multi-valued attributes, which the columns read
// element by element.
var multiNames = map[string]bool{"emails": true, "phoneNumbers": true, "roles": true, "entitlements": true,
	"addresses": true, "ims": true, "x509Certificates": true, "groups": true}

// shapedList is a multi-valued attribute as stored, mostly: elements
// with a type the columns' filters select, a value, a primary flag, and
// now and then an element of the wrong kind or a value that is not text.
func shapedList(t *rapid.T, label string) []any {
	var list []any
	for i := range rapid.IntRange(0, 4).Draw(t, label+".len") {
		el := fmt.Sprintf("%s[%d]", label, i)
		if rapid.IntRange(0, 9).Draw(t, el+".junk") == 0 {
			list = append(list, anyValue(t, el, 1))
			continue
		}
		m := map[string]any{}
		if rapid.Bool().Draw(t, el+".typed") {
			m["type"] = rapid.SampledFrom([]any{"work", "home", "mobile", "WORK", "", nil, true, "slack"}).Draw(t, el+".type")
		}
		if rapid.IntRange(0, 5).Draw(t, el+".hasValue") > 0 {
			m["value"] = rapid.SampledFrom([]any{"a@example.com", "x|y", "", nil, json.Number("7"), false, map[string]any{"k": "v"}}).Draw(t, el+".value")
		}
		if rapid.Bool().Draw(t, el+".hasPrimary") {
			m["primary"] = rapid.Bool().Draw(t, el+".primary")
		}
		if rapid.Bool().Draw(t, el+".hasDisplay") {
			m["display"] = rapid.SampledFrom([]any{"Team, North", "", "d"}).Draw(t, el+".display")
		}
		list = append(list, m)
	}
	return list
}

var subNames = []string{"value", "type", "primary", "display", "givenName", "familyName", "formatted", "locality",
	"source", "employeeNumber", "department", "manager", "tier", "lastLoginAt", "sourceUserNames", "organization", "costCenter"}

var topNames = []string{"userName", "externalId", "name", "displayName", "nickName", "title", "userType", "active",
	"emails", "phoneNumbers", "roles", "entitlements", "addresses", "ims", "x509Certificates", "password", "locale",
	"timezone", "preferredLanguage", "profileUrl", schema.EnterpriseURN, schema.SupportURN, schema.OrgURN, "groups"}

// TestExportViewMatchesDocument: every column reads the same cell from an
// indexed document as from the decoded one, for documents of any shape
// (wrong kinds where objects belong, "" and null, escapes, numbers,
// missing extensions).
func TestExportViewMatchesDocument(t *testing.T) {
	reg := schema.New()
	cols := viewColumns(t, reg)
	rapid.Check(t, func(t *rapid.T) {
		doc := map[string]any{}
		for _, k := range rapid.SliceOfDistinct(rapid.SampledFrom(topNames), func(s string) string { return s }).Draw(t, "keys") {
			if multiNames[k] && rapid.IntRange(0, 4).Draw(t, k+".shaped") > 0 {
				doc[k] = shapedList(t, k)
				continue
			}
			doc[k] = anyValue(t, k, 0)
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		groups := []store.GroupRef{{ID: "g1", DisplayName: "Team, North"}, {ID: "g2"}}
		decoded := &directory.Resource{Type: reg.User, ID: "u1", Raw: raw, Groups: groups}
		if err := directory.ExportProjection(decoded); err != nil {
			t.Fatal(err)
		}
		indexed := &directory.Resource{Type: reg.User, ID: "u1", Raw: raw, Groups: groups}
		if !indexed.Index() {
			t.Fatalf("%s: not indexed", raw)
		}
		var want, got source
		if err := want.reset(decoded); err != nil {
			t.Fatal(err)
		}
		if err := got.reset(indexed); err != nil {
			t.Fatal(err)
		}
		if want.indexed || !got.indexed {
			t.Fatal("the two sources are not one decoded and one indexed")
		}
		for i := range cols {
			c := &cols[i]
			if w, g := c.read(&want, nil), c.read(&got, nil); w != g {
				t.Fatalf("%s\ncolumn %s: decoded %q, indexed %q", raw, c.header, w, g)
			}
		}
	})
}

// TestExportViewHidesPassword: an indexed document, like a decoded one,
// shows no attribute returned "never".
func TestExportViewHidesPassword(t *testing.T) {
	reg := schema.New()
	r := &directory.Resource{Type: reg.User, Raw: []byte(`{"userName":"a","password":"secret"}`)}
	if !r.Index() {
		t.Fatal("not indexed")
	}
	view, _ := r.View()
	if _, ok := view.Member("password"); ok {
		t.Fatal("the indexed document shows the password")
	}
	if _, ok := view.Member("userName"); !ok {
		t.Fatal("the indexed document lost userName")
	}
}

// TestExportViewMalformed: a malformed value a column reads fails the
// row, as decoding the whole document would have; one no column reads
// does not stop the export.
func TestExportViewMalformed(t *testing.T) {
	reg := schema.New()
	cols, err := pathColumns(reg.User, []string{"userName", "externalId", `emails[type eq "work"].value`})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		raw  string
		col  int
		fail bool
	}{
		{`{"userName":"a\x","externalId":"e"}`, 0, true},
		{`{"userName":"a\x","externalId":"e"}`, 1, false},
		{`{"userName":"a","emails":[{"value":"y"} {"value":"x","type":"work"}]}`, 2, true},
		{`{"userName":"a","emails":[{"value":"y","type":"w\q"},{"value":"x","type":"work"}]}`, 2, true},
		{`{"userName":"a","emails":[{"value":"x\q","type":"work"}]}`, 2, true},
		{`{"userName":"a","emails":[{"value":"x\q","type":"work"}]}`, 0, false},
	} {
		r := &directory.Resource{Type: reg.User, ID: "u1", Raw: []byte(tc.raw)}
		if !r.Index() {
			t.Fatalf("%s: not indexed", tc.raw)
		}
		var src source
		if err := src.reset(r); err != nil {
			t.Fatal(err)
		}
		cols[tc.col].read(&src, nil)
		if err := src.check(); (err != nil) != tc.fail {
			t.Fatalf("%s, column %s: error %v, want failure %v", tc.raw, cols[tc.col].header, err, tc.fail)
		}
	}
}
