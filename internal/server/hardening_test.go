package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

const supportURN = "urn:scimbridge:params:scim:schemas:extension:support:2.0:User"

func randomWord(rng *rand.Rand, n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// httpSeries returns the distinct series of the HTTP request metrics.
func httpSeries(t *testing.T, e *servertest.Env) []string {
	t.Helper()
	body := e.Do(t, "GET", "/metrics", "").Must(t, http.StatusOK).Body
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "scimbridge_http_requests_total{") {
			out = append(out, line[:strings.LastIndex(line, "}")+1])
		}
	}
	return out
}

// TestHardening_MetricsLabelsBounded: random paths and random methods,
// with and without credentials, add no metric series beyond the fixed
// route and method sets.
func TestHardening_MetricsLabelsBounded(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		rng := rand.New(rand.NewPCG(1, 2))
		prefixes := []string{"/", "/scim/v2/", "/scim/v2/Users/", "/scim/v2/Groups/x/", "/audit/", "/healthz/"}
		methods := []string{"GET", "POST", "DELETE"}
		for i := range 600 {
			path := prefixes[rng.IntN(len(prefixes))] + randomWord(rng, 12)
			method := methods[rng.IntN(len(methods))]
			if rng.IntN(3) == 0 {
				method = "M" + strings.ToUpper(randomWord(rng, 8))
			}
			auth := "Bearer " + e.Token
			if i%3 == 0 {
				auth = ""
			}
			e.Do(t, method, path, "", "Authorization", auth)
		}
		series := httpSeries(t, e)
		if len(series) > 60 {
			t.Fatalf("%d HTTP metric series after random requests (want a bounded set); e.g. %v", len(series), series[:10])
		}
		for _, s := range series {
			if strings.Contains(s, `method="M`) || strings.Count(s, "/") > 6 {
				t.Fatalf("a client-chosen value became a label: %s", s)
			}
		}
		for _, want := range []string{`route="/scim/v2/users/{id}"`, `route="other"`, `method="other"`} {
			if !strings.Contains(strings.Join(series, "\n"), want) {
				t.Fatalf("no series with %s: %v", want, series)
			}
		}
	})
}

// frontEndCalls are valid requests to every front end, present and
// future: each must refuse a missing credential (401), a bad credential
// (401) and a deactivated person (403) alike.
var frontEndCalls = []struct{ name, method, path string }{
	{"scim users", "GET", "/scim/v2/Users"},
	{"scim discovery", "GET", "/scim/v2/ServiceProviderConfig"},
	{"scim me", "GET", "/scim/v2/Me"},
	{"audit", "GET", "/audit/events"},
	{"csv profiles", "GET", "/csv/profiles"},
	{"csv imports", "GET", "/csv/imports"},
	{"settings", "GET", "/settings"},
	{"settings outbox", "GET", "/settings/outbox"},
}

// TestHardening_DeactivatedPersonRefusedEverywhere: one authentication
// middleware serves every front end, so a deactivated person is refused on
// the audit log as on SCIM, and every front end answers 401 the same way.
func TestHardening_DeactivatedPersonRefusedEverywhere(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"dee",%q:{"tier":"support-tier-2-software-partner"}}`, supportURN)).
			Must(t, http.StatusCreated).JSON(t)["id"].(string)
		person := "Bearer " + e.IdP.Token(t, policy.KindPerson, policy.Tier3Engineering, "dee")
		for _, c := range frontEndCalls {
			e.Do(t, c.method, c.path, "", "Authorization", person).Must(t, http.StatusOK)
		}
		e.Do(t, "PATCH", "Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`).
			Must(t, http.StatusOK)
		for _, c := range frontEndCalls {
			t.Run(c.name, func(t *testing.T) {
				m := e.Do(t, c.method, c.path, "", "Authorization", person).MustError(t, http.StatusForbidden, "")
				if !strings.Contains(m["detail"].(string), "deactivated") {
					t.Fatalf("403 detail %q does not say why", m["detail"])
				}
				for auth, reason := range map[string]string{"": "an Authorization header", "Bearer scimb_nope": "not valid or has been revoked"} {
					r := e.Do(t, c.method, c.path, "", "Authorization", auth)
					m := r.MustError(t, http.StatusUnauthorized, "")
					if d := m["detail"].(string); !strings.HasPrefix(d, "Authentication failed: ") || !strings.Contains(d, reason) {
						t.Fatalf("401 detail %q, want the reason %q", d, reason)
					}
					if r.Header.Get("WWW-Authenticate") == "" {
						t.Fatal("401 without WWW-Authenticate")
					}
				}
			})
		}
	})
}

// userTier reads a user's stored tier as the admin sees it.
func userTier(t *testing.T, e *servertest.Env, id string) string {
	t.Helper()
	ext, _ := e.Do(t, "GET", "Users/"+id, "").Must(t, http.StatusOK).JSON(t)[supportURN].(map[string]any)
	tier, _ := ext["tier"].(string)
	return tier
}

func patchOne(path string, value string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":%q,"value":%s}]}`, path, value)
}

// TestHardening_SelfJudgedByID: signed in as a person whose token says
// tier 2 and whose directory user has tier 0, renaming one's own user,
// raising its tier and renaming it back does not work, for a plain and a
// Unicode userName; a case variant of one's name stays one's own.
func TestHardening_SelfJudgedByID(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for _, name := range []string{"lee", "k\u0130m"} {
			id := e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":%q,%q:{"tier":"support-tier-0-help-desk"}}`, name, supportURN)).
				Must(t, http.StatusCreated).JSON(t)["id"].(string)
			as := []string{"Authorization", "Bearer " + e.IdP.Token(t, policy.KindPerson, policy.Tier2SoftwarePartner, name)}
			e.Do(t, "PATCH", "Users/"+id, patchOne("userName", fmt.Sprintf("%q", name+".tmp")), as...).MustError(t, http.StatusForbidden, "")
			e.Do(t, "PATCH", "Users/"+id, patchOne(supportURN+":tier", `"support-tier-2-software-partner"`), as...).MustError(t, http.StatusForbidden, "")
			e.Do(t, "PATCH", "Users/"+id, patchOne("userName", fmt.Sprintf("%q", strings.ToUpper(name))), as...).Must(t, http.StatusOK)
			e.Do(t, "PATCH", "Users/"+id, patchOne(supportURN+":tier", `"support-tier-2-software-partner"`), as...).MustError(t, http.StatusForbidden, "")
			if got := userTier(t, e, id); got != "support-tier-0-help-desk" {
				t.Fatalf("%q raised their own tier to %q", name, got)
			}
			if me := e.Do(t, "GET", "Me", "", as...).Must(t, http.StatusOK).JSON(t); me["id"] != id {
				t.Fatalf("%q: /Me is %v, want %s", name, me["id"], id)
			}
		}
	})
}
