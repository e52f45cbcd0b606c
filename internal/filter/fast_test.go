package filter

import (
	"reflect"
	"testing"

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
	for _, f := range []string{`a eq "x" and b eq "y"`, `emails[type eq "work"]`, `(title pr)`, `not (title pr)`, `userName eq`} {
		toks, _ := lex(f)
		if _, ok := fastAST(rewrite(toks)); ok {
			t.Fatalf("%s took the fast path", f)
		}
	}
}
