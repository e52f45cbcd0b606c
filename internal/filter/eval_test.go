package filter_test

import (
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/filter"
)

// bjensen is a user in its wire form, as filter.Eval sees it.
func bjensen() filter.Resource {
	return filter.Resource{
		"id":         "2819c223-7f76-453a-919d-413861904646",
		"externalId": "BJ-1",
		"userName":   "BJensen",
		"name":       map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"title":      "",
		"nickName":   "Babs",
		"active":     true,
		"emails": []any{
			map[string]any{"value": "bjensen@Example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
			map[string]any{"type": "other"},
		},
		"phoneNumbers": []any{},
		"meta": map[string]any{
			"created":      time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC),
			"lastModified": "2021-06-07T08:09:10.5Z",
		},
		enterprise: map[string]any{"employeeNumber": "701984", "department": "Tour Operations",
			"manager": map[string]any{"value": "26118915"}},
		"groups": []any{map[string]any{"value": "e9e30dba", "display": "Tour Guides", "type": "direct"}},
	}
}

func TestEvalSemantics(t *testing.T) {
	res := bjensen()
	tests := []struct {
		filter string
		want   bool
	}{
		// Case rules: userName is case-insensitive, externalId and id are not.
		{`userName eq "bjensen"`, true},
		{`userName eq "BJENSEN"`, true},
		{`externalId eq "bj-1"`, false},
		{`externalId eq "BJ-1"`, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, false},
		{`userName sw "bj"`, true},
		{`userName ew "SEN"`, true},
		{`userName co "JENS"`, true},
		{`userName gt "bj"`, true},
		{`userName lt "bj"`, false},
		{`userName le "bjensen"`, true},
		{`userName ge "bjensen"`, true},
		// ne on a multi-valued attribute is "no element equals".
		{`emails.type ne "work"`, false},
		{`emails.type ne "mobile"`, true},
		{`emails.value ne "BJENSEN@example.COM"`, false},
		{`emails.value ne "nobody@example.com"`, true},
		{`phoneNumbers.value ne "1"`, true}, // empty array: no value at all
		// Other comparisons: any element.
		{`emails.type eq "home"`, true},
		{`emails co "jensen.org"`, true},
		{`emails.value ew ".com"`, true},
		{`emails.primary eq true`, true},
		{`emails.primary eq false`, false}, // absent is not false
		{`emails.primary ne true`, false},
		// A value path needs one element to satisfy the whole filter.
		{`emails[type eq "work" and value co "example.com"]`, true},
		{`emails[type eq "home" and value co "example.com"]`, false},
		{`emails[type eq "work"].value eq "babs@jensen.org"`, false},
		{`emails[type eq "home"].value eq "babs@jensen.org"`, true},
		{`emails[type eq "other"].value pr`, false},
		{`emails[not (value pr)]`, true},
		{`emails[type eq "other" and value eq null]`, true},
		// pr and null: "" and [] are no value.
		{`title pr`, false},
		{`title eq null`, true},
		{`title ne null`, false},
		{`title eq ""`, false},
		{`title co ""`, false},
		{`title lt "a"`, false},
		{`nickName pr`, true},
		{`phoneNumbers pr`, false},
		{`emails pr`, true},
		{`emails.value pr`, true},
		{`name.middleName pr`, false},
		{`name pr`, true},
		// Absent attributes: every comparison false but ne, and not flips.
		{`displayName eq "x"`, false},
		{`displayName ne "x"`, true},
		{`not (displayName eq "x")`, true},
		{`not (displayName ne "x")`, false},
		{`displayName gt ""`, false},
		{`not (displayName co "")`, true},
		{`profileUrl eq null`, true},
		{`x509Certificates.value pr`, false},
		// Booleans.
		{`active eq true`, true},
		{`active ne true`, false},
		{`active eq false`, false},
		{`active pr`, true},
		// dateTimes compare as instants at microsecond precision, from
		// time.Time or RFC 3339 strings.
		{`meta.created eq "2020-01-02T03:04:05.123456Z"`, true},
		{`meta.created eq "2020-01-02T03:04:05.1234569Z"`, true},
		{`meta.created eq "2020-01-02T04:04:05.123456+01:00"`, true},
		{`meta.created gt "2020-01-02T03:04:05.123455Z"`, true},
		{`meta.created gt "2020-01-02T03:04:05.123456Z"`, false},
		{`meta.created ge "2020-01-02T03:04:05.123456Z"`, true},
		{`meta.lastModified lt "2021-06-07T08:09:10.500001Z"`, true},
		{`meta.lastModified le "2021-06-07T08:09:10.4999999Z"`, false},
		{`meta.lastModified ne "2021-06-07T08:09:10.5Z"`, false},
		// Extensions.
		{enterprise + `:employeeNumber eq "701984"`, true},
		{enterprise + `:employeeNumber eq 701984`, true},
		{enterprise + `:department co "tour"`, true},
		{enterprise + `:manager.value eq "26118915"`, true},
		{enterprise + `:manager.displayName pr`, false},
		{enterprise + `:costCenter ne "x"`, true},
		{support + `:tier pr`, false},
		{support + `:tier ne "support-tier-0-help-desk"`, true},
		// groups.
		{`groups.display eq "tour guides"`, true},
		{`groups[value eq "E9E30DBA" and type eq "direct"]`, true},
		{`groups eq "e9e30dba"`, true},
		// Logic.
		{`userName eq "x" or title pr or nickName eq "babs"`, true},
		{`userName eq "bjensen" and not (emails[type eq "work" and primary eq true])`, false},
	}
	for _, tt := range tests {
		e := mustParse(t, reg.User, tt.filter)
		if got := filter.Eval(e, res); got != tt.want {
			t.Errorf("Eval(%s) = %v, want %v (parsed %s)", tt.filter, got, tt.want, render(e))
		}
	}
}

func TestEvalMissingMeta(t *testing.T) {
	e := mustParse(t, reg.User, `meta.created lt "2100-01-01T00:00:00Z" or meta.lastModified pr`)
	for _, res := range []filter.Resource{{}, {"meta": nil}, {"meta": "x"}, {"meta": map[string]any{"created": "not a time"}}} {
		if filter.Eval(e, res) {
			t.Errorf("Eval on %v = true", res)
		}
	}
}

func TestSortKeys(t *testing.T) {
	res := bjensen()
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"userName", "bjensen", true},
		{"externalId", "BJ-1", true},
		{"title", nil, false},
		{"displayName", nil, false},
		{"emails.value", "bjensen@example.com", true}, // the primary one
		{"emails.type", "work", true},
		{"phoneNumbers.value", nil, false},
		{"meta.created", time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC), true},
		{"meta.lastModified", time.Date(2021, 6, 7, 8, 9, 10, 500000000, time.UTC), true},
		{"active", true, true},
		{enterprise + ":department", "tour operations", true},
	}
	for _, tt := range tests {
		a, err := filter.ResolvePath(reg.User, tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := filter.SortKey(res, a)
		if ok != tt.ok || (ok && got != tt.want && !(isTime(got) && got.(time.Time).Equal(tt.want.(time.Time)))) {
			t.Errorf("SortKey(%s) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	// Without a primary element, the first one sorts.
	res["emails"] = []any{map[string]any{"value": "Z@x"}, map[string]any{"value": "a@x"}}
	a, _ := filter.ResolvePath(reg.User, "emails.value")
	if got, _ := filter.SortKey(res, a); got != "z@x" {
		t.Errorf("SortKey without primary = %v", got)
	}
	// Missing values come last in both directions.
	for _, desc := range []bool{false, true} {
		if filter.CompareKeys(nil, false, "a", true, desc) <= 0 || filter.CompareKeys("a", true, nil, false, desc) >= 0 {
			t.Errorf("descending=%v: a missing key does not sort last", desc)
		}
	}
	if filter.CompareKeys("a", true, "b", true, false) >= 0 || filter.CompareKeys("a", true, "b", true, true) <= 0 ||
		filter.CompareKeys(false, true, true, true, false) >= 0 || filter.CompareKeys("B", true, "a", true, false) >= 0 {
		t.Error("CompareKeys orders values wrongly")
	}
}

func isTime(v any) bool { _, ok := v.(time.Time); return ok }
