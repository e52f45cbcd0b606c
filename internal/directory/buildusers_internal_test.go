package directory

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestBuildUsersMatchesOneByOne: the records and refusals of a batch
// built side by side are those userFrom gives one body at a time, in the
// batch's order (run with -race: each body is read by one goroutine).
func TestBuildUsersMatchesOneByOne(t *testing.T) {
	rt := schema.New().User
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "ops", Kind: policy.KindProvisioner, Tier: policy.Tier1Operations}
	for _, n := range []int{0, 1, buildShare, buildShare + 1, 5*buildShare + 3} {
		bodies := make([]map[string]any, n)
		for k := range bodies {
			bodies[k] = map[string]any{"userName": fmt.Sprintf("u%d@example.com", k),
				"emails": []any{map[string]any{"value": fmt.Sprintf("u%d@example.com", k), "type": "work"}}}
			switch k % 7 {
			case 3:
				delete(bodies[k], "userName") // invalid: required
			case 5:
				bodies[k][schema.SupportURN] = map[string]any{"tier": "support-tier-3-engineering"} // above the caller
			}
		}
		got := buildUsers(rt, p, n, func(k int) (map[string]any, *Prebuilt) { return bodies[k], nil })
		if len(got) != n {
			t.Fatalf("n=%d: %d results", n, len(got))
		}
		for k := range bodies {
			u, err := userFrom(rt, p, bodies[k])
			if !reflect.DeepEqual(got[k].u, u) || fmt.Sprint(got[k].err) != fmt.Sprint(err) {
				t.Fatalf("n=%d body %d: built (%+v, %v), one by one (%+v, %v)", n, k, got[k].u, got[k].err, u, err)
			}
			if (k%7 == 3 || k%7 == 5) != (err != nil) {
				t.Errorf("n=%d body %d: err %v", n, k, err)
			}
		}
	}
}

// TestBuildUsersTakesFittingPrebuilt: a creation prebuilt for the run's
// schema and principal is taken as it was built (here a made-up refusal
// of a valid body shows it was not validated again); one built for
// another principal or schema is validated afresh.
func TestBuildUsersTakesFittingPrebuilt(t *testing.T) {
	rt := schema.New().User
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "ops", Kind: policy.KindProvisioner, Tier: policy.Tier1Operations}
	other := p
	other.Tier = policy.Tier3Engineering
	otherRT := *rt
	sentinel := fmt.Errorf("made-up refusal")
	body := map[string]any{"userName": "ann@example.com"}
	pres := []*Prebuilt{
		{rt: rt, p: p, b: built{err: sentinel}},       // fits: taken
		{rt: rt, p: other, b: built{err: sentinel}},   // another principal: built again
		{rt: &otherRT, p: p, b: built{err: sentinel}}, // another schema: built again
		nil, // none: built
	}
	for _, n := range []int{len(pres), 2*buildShare + 1} {
		got := buildUsers(rt, p, n, func(k int) (map[string]any, *Prebuilt) { return body, pres[k%len(pres)] })
		for k := range got {
			taken := k%len(pres) == 0
			if (got[k].err == sentinel) != taken || (!taken && (got[k].err != nil || got[k].u.UserName != "ann@example.com")) {
				t.Errorf("n=%d body %d: (%+v, %v); prebuilt taken: %v", n, k, got[k].u, got[k].err, taken)
			}
		}
	}
}

// BenchmarkUserFrom validates one user as a CSV import's creation looks
// (core attributes, a work email, the enterprise extension, a tier): the
// Go work per created row that a commit (and the preview's dry run)
// spends in the directory.
func BenchmarkUserFrom(b *testing.B) {
	rt := schema.New().User
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "ops", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
	body := func() map[string]any {
		return map[string]any{
			"userName": "ann.smith@example.com", "externalId": "E-1001", "displayName": "Ann Smith", "title": "Engineer", "active": true,
			"name":   map[string]any{"givenName": "Ann", "familyName": "Smith"},
			"emails": []any{map[string]any{"value": "ann.smith@example.com", "type": "work", "primary": true}},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D", "employeeNumber": "1001"},
			schema.SupportURN: map[string]any{"tier": "support-tier-1-operations"},
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := userFrom(rt, p, body()); err != nil {
			b.Fatal(err)
		}
	}
}
