package filter_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// fuzzSeeds are filters of every shape the parser accepts or rejects.
var fuzzSeeds = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr and userType eq "Employee"`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`,
	`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
	`userName sw O`,
	`emails[type eq "work"].value eq "x"`,
	`emails[type eq "work"].value pr`,
	`emails[not (type eq "work")]`,
	`userName eq "a\"b\\c\u00E9\u00e9"`,
	`active eq True`,
	`active eq "maybe"`,
	`externalId eq 12`,
	`meta.created eq null`,
	enterprise + `:manager.value eq "x"`,
	support + `:sourceUserNames[source eq "slack"]`,
	`members[type eq "Group"]`,
	`groups.display co "x"`,
	`emails[value eq "x"][type eq "y"]`,
	`not (not (userName pr))`,
	`((userName pr))`,
	`userName eq "x" or title pr and nickName pr`,
	`userName eq "unterminated`,
	`emails[type eq "work"`,
	`password eq "x"`,
	`name eq "x"`,
	`] .value eq x`,
	`x[y].z pr`,
	`a eq b eq c`,
	`"`,
	`\`,
}

// fuzzResources are what Eval runs on: well-formed resources, an empty one
// and one whose values have every wrong type.
func fuzzResources() []filter.Resource {
	return []filter.Resource{
		bjensen(),
		{},
		{
			"id": 1, "userName": 5, "displayName": []any{"x"}, "name": "str", "active": "true",
			"emails": "notalist", "phoneNumbers": []any{1, nil, "x", []any{}, map[string]any{"value": false}},
			"meta":     map[string]any{"created": 12, "lastModified": []any{}},
			enterprise: "x", support: map[string]any{"sourceUserNames": map[string]any{"value": "x"}},
			"groups": []any{nil}, "members": []any{map[string]any{"value": 3, "type": nil}},
		},
		{
			"id": "g1", "displayName": "Admins",
			"members": []any{map[string]any{"value": "u1", "type": "User", "display": "Bob"}, map[string]any{"value": "g2", "type": "Group"}},
			"meta":    map[string]any{"created": time.Unix(0, 0).UTC(), "lastModified": "2020-01-01T00:00:00Z"},
		},
		{"emails": []any{map[string]any{}, json.Number("1")}, "meta": nil},
	}
}

// FuzzParse: Parse never panics; its errors are SCIM invalidFilter errors;
// what it accepts is a well-formed tree that Eval can run on any resource
// and that both SQL dialects translate.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	resources := fuzzResources()
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*schema.ResourceType{reg.User, reg.Group} {
			for _, parse := range []func(*schema.ResourceType, string) (filter.Expr, error){filter.Parse, filter.ParseLenient} {
				e, err := parse(rt, s)
				if err != nil {
					checkInvalidFilter(t, s, err)
					continue
				}
				if e == nil {
					t.Fatalf("%q: no expression and no error", s)
				}
				checkTree(t, s, e, nil)
				for _, res := range resources {
					filter.Eval(e, res)
				}
				checkSQL(t, s, rt, e)
			}
		}
	})
}

// FuzzResolvePath: ResolvePath never panics and fails only with SCIM
// invalidFilter errors; a resolved path yields sort keys on any resource.
func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{"userName", "name.familyName", "emails", "emails.value", "meta.lastModified",
		enterprise + ":manager.value", support + ":tier", "urn:ietf:params:scim:schemas:core:2.0:User:title",
		"members.display", "groups.$ref", "password", "meta", "a.b.c", "urn:", ":", "$ref", "emails[type eq \"work\"]"} {
		f.Add(s)
	}
	resources := fuzzResources()
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*schema.ResourceType{reg.User, reg.Group} {
			a, err := filter.ResolvePath(rt, s)
			if err != nil {
				checkInvalidFilter(t, s, err)
				continue
			}
			if a.Name == "" || a.Type == "" {
				t.Fatalf("ResolvePath(%q) = %+v", s, a)
			}
			for _, res := range resources {
				k, ok := filter.SortKey(res, a)
				filter.CompareKeys(k, ok, k, ok, false)
			}
			res := sqlq.Users
			if rt == reg.Group {
				res = sqlq.Groups
			}
			for _, d := range []sqlq.Dialect{sqlq.Postgres, sqlq.SQLite} {
				_, _ = sqlq.List(d, res, "r.id", store.DefaultTenant, store.Query{SortBy: &a, Limit: 1}) // may refuse, must not panic
			}
		}
	})
}

// checkSQL translates e in both dialects; every filter Parse accepts must
// translate.
func checkSQL(t *testing.T, s string, rt *schema.ResourceType, e filter.Expr) {
	t.Helper()
	res := sqlq.Users
	if rt == reg.Group {
		res = sqlq.Groups
	}
	for _, d := range []sqlq.Dialect{sqlq.Postgres, sqlq.SQLite} {
		st, err := sqlq.List(d, res, "r.id", store.DefaultTenant, store.Query{Filter: e, Limit: 10})
		if err != nil {
			t.Fatalf("%q (%s, dialect %d): %v", s, rt.Name, d, err)
		}
		if strings.Count(st.Page, "(") != strings.Count(st.Page, ")") {
			t.Fatalf("%q: unbalanced SQL %s", s, st.Page)
		}
	}
}

// checkTree checks the invariants of a resolved filter; vp is the value
// path e is inside of.
func checkTree(t *testing.T, s string, e filter.Expr, vp *filter.ValuePath) {
	t.Helper()
	switch e := e.(type) {
	case *filter.And:
		checkTree(t, s, e.Left, vp)
		checkTree(t, s, e.Right, vp)
	case *filter.Or:
		checkTree(t, s, e.Left, vp)
		checkTree(t, s, e.Right, vp)
	case *filter.Not:
		checkTree(t, s, e.X, vp)
	case *filter.Const:
	case *filter.ValuePath:
		if vp != nil || !e.Attr.MultiValued || e.Attr.Type != "complex" || e.Attr.Sub != "" {
			t.Fatalf("%q: bad value path %+v", s, e.Attr)
		}
		checkTree(t, s, e.Filter, e)
	case *filter.Compare:
		a := e.Attr
		if vp != nil && (a.Name != vp.Attr.Name || a.URN != vp.Attr.URN || a.Sub == "") {
			t.Fatalf("%q: %s inside %s[...]", s, a, vp.Attr)
		}
		if a.Sub == "$ref" || a.Name == "password" {
			t.Fatalf("%q: %s is not filterable", s, a)
		}
		switch {
		case e.Op == filter.Pr:
		case a.Type == "boolean":
			if e.Value.Kind != filter.KindBool || (e.Op != filter.Eq && e.Op != filter.Ne) {
				t.Fatalf("%q: boolean comparison %+v", s, e)
			}
		case a.Type == "dateTime":
			if e.Value.Kind != filter.KindTime || e.Op == filter.Co || e.Op == filter.Sw || e.Op == filter.Ew ||
				e.Value.Time.Location() != time.UTC || e.Value.Time.Nanosecond()%1000 != 0 {
				t.Fatalf("%q: dateTime comparison %+v", s, e)
			}
		case a.Type == "string" || a.Type == "reference" || a.Type == "binary":
			// No stored string holds NUL or invalid UTF-8, and PostgreSQL
			// rejects both as parameters.
			if e.Value.Kind != filter.KindString || strings.IndexByte(e.Value.Str, 0) >= 0 || !utf8.ValidString(e.Value.Str) {
				t.Fatalf("%q: string comparison %+v", s, e)
			}
		default:
			t.Fatalf("%q: %s (type %s) compared with %s", s, a, a.Type, e.Op)
		}
		switch e.Op {
		case filter.Eq, filter.Ne, filter.Co, filter.Sw, filter.Ew, filter.Gt, filter.Ge, filter.Lt, filter.Le, filter.Pr:
		default:
			t.Fatalf("%q: operator %q", s, e.Op)
		}
	default:
		t.Fatalf("%q: node %T", s, e)
	}
}
