package filter

import (
	"reflect"
	"testing"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// TestFastPathAgreesWithParser holds the fast path for simple comparisons
// to the general parser's result.
func TestFastPathAgreesWithParser(t *testing.T) {
	rt := schema.New().User
	for _, f := range []string{
		`userName eq "bjensen"`, `USERNAME Eq "B\"jensen"`, `externalId eq 123`, `active eq true`, `active ne False`,
		`title pr`, `name.familyName co "O'Malley"`, `meta.lastModified gt "2024-01-01T00:00:00Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier eq "support-tier-1-operations"`,
		`emails eq "a@b.c"`, `userName sw O`, `nickName eq null`, `userName eq "\u00e9"`, `displayName le "Z"`,
		`emails[type eq "work"]`, `Emails[Value co "@x.test"]`, `emails[primary eq true]`, `emails[display pr]`,
		`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "home"]`, `addresses[postalCode sw 12]`,
		`emails[type eq "work" and primary eq true]`, `emails[type eq "work"].value eq "a@b.c"`, `emails[type eq "work" AND value pr]`,
	} {
		toks, ok := lex(f)
		if !ok {
			t.Fatalf("lex %s", f)
		}
		toks = rewrite(toks)
		fast, ok := fastAST(toks)
		if !ok {
			t.Fatalf("%s: not on the fast path", f)
		}
		general, err := parseAST(join(toks))
		if err != nil {
			t.Fatalf("%s: general parser: %v", f, err)
		}
		r := resolver{rt: rt}
		a, errA := r.expr(fast, nil, 0)
		b, errB := r.expr(general, nil, 0)
		if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
			t.Fatalf("%s: fast %#v (%v) != general %#v (%v)", f, a, errA, b, errB)
		}
	}
	for _, f := range []string{`a eq "x" and b eq "y"`, `emails[type eq "work" or primary eq true]`, `emails [type eq "work"]`,
		`emails[type eq "work" and primary eq true and value pr]`, `emails[not (type eq "work")]`,
		`emails[ type eq "work"]`, `name.givenName[value eq "x"]`, `emails[type eq]`,
		`(title pr)`, `not (title pr)`, `userName eq`} {
		toks, _ := lex(f)
		if _, ok := fastAST(rewrite(toks)); ok {
			t.Fatalf("%s took the fast path", f)
		}
	}
}

// TestFastAttrPathAgreesWithParser holds the fast path for PATCH paths to
// the general path parser.
func TestFastAttrPathAgreesWithParser(t *testing.T) {
	for _, p := range []string{
		"userName", "name.givenName", "Name.FamilyName", "emails", "meta.lastModified", "members.$ref", "x-custom_1",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
		"urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier",
		"URN:ietf:params:scim:schemas:core:2.0:User:name.givenName",
	} {
		fast, ok := fastAttrPath(p)
		if !ok {
			t.Fatalf("%s: not on the fast path", p)
		}
		general, err := fp.ParseAttrPath([]byte(p))
		if err != nil {
			t.Fatalf("%s: general parser: %v", p, err)
		}
		if fast.String() != general.String() || (fast.URIPrefix == nil) != (general.URIPrefix == nil) ||
			(fast.SubAttribute == nil) != (general.SubAttribute == nil) || fast.AttributeName != general.AttributeName {
			t.Fatalf("%s: fast %#v != general %#v", p, fast, general)
		}
	}
	for _, p := range []string{`emails[type eq "work"]`, `emails[type eq "work"].value`, "a.b.c", "", " userName", "1abc"} {
		if _, ok := fastAttrPath(p); ok {
			t.Fatalf("%s took the fast path", p)
		}
	}
}

// FuzzFastPathAgrees: whatever the fast paths accept, the general parser
// accepts too, with the same result.
func FuzzFastPathAgrees(f *testing.F) {
	for _, s := range []string{`userName eq "x"`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		`emails[type eq "work"]`, `title pr`, `emails[display pr]`, `name.givenName`, `urn:a:b:c`, `x[y eq 1]`} {
		f.Add(s)
	}
	reg := schema.New()
	f.Fuzz(func(t *testing.T, s string) {
		if ap, ok := fastAttrPath(s); ok {
			general, err := fp.ParseAttrPath([]byte(s))
			if err != nil || general.String() != ap.String() {
				t.Fatalf("path %q: fast %v, general %v (%v)", s, ap, general, err)
			}
		}
		toks, ok := lex(s)
		if !ok {
			return
		}
		toks = rewrite(toks)
		fast, ok := fastAST(toks)
		if !ok {
			return
		}
		general, err := parseAST(join(toks))
		if err != nil {
			t.Fatalf("%q: fast path accepts, general parser refuses: %v", s, err)
		}
		for _, rt := range []*schema.ResourceType{reg.User, reg.Group} {
			r := resolver{rt: rt}
			a, errA := r.expr(fast, nil, 0)
			b, errB := r.expr(general, nil, 0)
			if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
				t.Fatalf("%q: fast %#v (%v) != general %#v (%v)", s, a, errA, b, errB)
			}
		}
	})
}
