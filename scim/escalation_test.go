package scim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

const supportURN = "urn:scimbridge:params:scim:schemas:extension:support:2.0:User"

func tierUser(name, tier string) string {
	return fmt.Sprintf(`{"userName":%q,%q:{"tier":%q}}`, name, supportURN, tier)
}

// A tier may not produce or touch a higher tier, whatever the path.
func TestNoEscalationThroughAnyPath(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		t1 := "Bearer " + e.NewToken(t, "default", "ops", policy.Tier1Operations)
		t2 := "Bearer " + e.NewToken(t, "default", "partner", policy.Tier2SoftwarePartner)
		as := func(tok string) []string { return []string{"Authorization", tok} }
		low := createUser(t, e, tierUser("low", "support-tier-1-operations"))["id"].(string)
		high := createUser(t, e, tierUser("high", "support-tier-3-engineering"))["id"].(string)

		e.Do(t, "POST", "Users", tierUser("made-high", "support-tier-2-software-partner"), as(t1)...).MustError(t, 403, "")
		e.Do(t, "POST", "Users", tierUser("made-equal", "support-tier-1-operations"), as(t1)...).Must(t, 201)
		raises := []string{
			`{"op":"replace","path":"` + supportURN + `:tier","value":"support-tier-2-software-partner"}`,
			`{"op":"replace","path":"` + supportURN + `","value":{"tier":"support-tier-3-engineering"}}`,
			`{"op":"add","value":{"` + supportURN + `":{"tier":"support-tier-2-software-partner"}}}`,
			`{"op":"replace","value":{"` + supportURN + `:tier":"support-tier-2-software-partner"}}`,
		}
		for _, op := range raises {
			m := e.Do(t, "PATCH", "Users/"+low, patchBody(op), as(t1)...).MustError(t, 403, "")
			if !strings.Contains(m["detail"].(string), "support-tier-") {
				t.Fatalf("403 detail does not say the tier: %v", m["detail"])
			}
		}
		e.Do(t, "PUT", "Users/"+low, tierUser("low", "support-tier-3-engineering"), as(t1)...).MustError(t, 403, "")
		e.Do(t, "PATCH", "Users/"+high, patchBody(`{"op":"replace","path":"title","value":"x"}`), as(t1)...).MustError(t, 403, "")
		e.Do(t, "PATCH", "Users/"+high, patchBody(`{"op":"replace","path":"active","value":false}`), as(t2)...).MustError(t, 403, "")
		e.Do(t, "DELETE", "Users/"+high, "", as(t2)...).MustError(t, 403, "")
		e.Do(t, "DELETE", "Users/"+low, "", as(t1)...).MustError(t, 403, "")

		g := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"G","members":[{"value":%q}]}`, low), as(t2)...).Must(t, 201).JSON(t)["id"].(string)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, high)), as(t2)...).MustError(t, 403, "")
		e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"H","members":[{"value":%q}]}`, high), as(t2)...).MustError(t, 403, "")
		hg := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"HG","members":[{"value":%q}]}`, high)).Must(t, 201).JSON(t)["id"].(string)
		e.Do(t, "PATCH", "Groups/"+hg, patchBody(`{"op":"remove","path":"members"}`), as(t2)...).MustError(t, 403, "")
		e.Do(t, "DELETE", "Groups/"+hg, "", as(t2)...).MustError(t, 403, "")

		ops := `{"method":"POST","path":"/Users","bulkId":"a","data":` + tierUser("bulk-high", "support-tier-3-engineering") + `},
			{"method":"POST","path":"/Users","bulkId":"b","data":` + tierUser("bulk-ok", "support-tier-1-operations") + `}`
		body := `{"Operations":[` + ops + `]}`
		res := e.Do(t, "POST", "Bulk", body, as(t1)...).Must(t, 200).JSON(t)["Operations"].([]any)
		if res[0].(map[string]any)["status"] != "403" || res[1].(map[string]any)["status"] != "201" {
			t.Fatalf("bulk statuses %v", res)
		}
		t0 := "Bearer " + e.NewToken(t, "default", "desk", policy.Tier0HelpDesk)
		e.Do(t, "POST", "Bulk", body, as(t0)...).MustError(t, 403, "")
	})
}

// A person cannot change their own tier, and a deactivated person is
// locked out.
func TestPeople(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		me := createUser(t, e, tierUser("ada@example.com", "support-tier-2-software-partner"))["id"].(string)
		tok := "Bearer " + e.IdP.Token(t, policy.KindPerson, policy.Tier2SoftwarePartner, "ada@example.com")
		got := e.Do(t, "GET", "Me", "", "Authorization", tok).Must(t, 200).JSON(t)
		if got["id"] != me {
			t.Fatalf("/Me = %v", got["id"])
		}
		e.Do(t, "PATCH", "Users/"+me, patchBody(`{"op":"replace","path":"`+supportURN+`:tier","value":"support-tier-1-operations"}`), "Authorization", tok).MustError(t, 403, "")
		e.Do(t, "PUT", "Me", `{"userName":"x"}`, "Authorization", tok).MustError(t, 405, "")
		e.Do(t, "PATCH", "Users/"+me, patchBody(`{"op":"replace","path":"active","value":false}`)).Must(t, 200)
		e.Do(t, "GET", "Users", "", "Authorization", tok).MustError(t, 403, "")
		script := "Bearer " + e.IdP.Token(t, policy.KindScript, policy.Tier0HelpDesk, "exporter")
		e.Do(t, "GET", "Users", "", "Authorization", script).Must(t, 200)
		e.Do(t, "GET", "Me", "", "Authorization", script).MustError(t, 403, "")
		noTier := "Bearer " + e.IdP.Token(t, policy.KindPerson, policy.TierNone, "bob@example.com")
		e.Do(t, "GET", "Users", "", "Authorization", noTier).MustError(t, 401, "")
	})
}
