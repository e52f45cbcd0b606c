package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/ratelimit"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// TestRateLimitPerCredential: with the default policy shape (people and
// scripts limited, provisioning secrets not), a person over the burst
// gets 429 with Retry-After and a SCIM error body on every front end,
// another person and a provisioning secret are unaffected, and the
// refusals are counted in /metrics.
func TestRateLimitPerCredential(t *testing.T) {
	st := servertest.Stores()["sqlite"](t)
	e := servertest.NewWith(t, server.Deps{Store: st, RateLimit: ratelimit.Config{OIDC: ratelimit.Rule{Rate: 0.01, Burst: 3}}})
	ada := e.IdP.Token(t, policy.KindPerson, policy.Tier1Operations, "ada")
	for range 3 {
		e.Do(t, "GET", "Users", "", "Authorization", "Bearer "+ada).Must(t, http.StatusOK)
	}
	for _, path := range []string{"Users", "/audit/events", "/csv/imports", "Groups"} {
		r := e.Do(t, "GET", path, "", "Authorization", "Bearer "+ada)
		m := r.MustError(t, http.StatusTooManyRequests, "")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("%s: Retry-After %q", path, ra)
		}
		if d, _ := m["detail"].(string); !strings.Contains(d, "Too many requests") {
			t.Fatalf("%s: detail %q", path, d)
		}
	}
	bob := e.IdP.Token(t, policy.KindPerson, policy.Tier1Operations, "bob")
	e.Do(t, "GET", "Users", "", "Authorization", "Bearer "+bob).Must(t, http.StatusOK)
	cron := e.IdP.Token(t, policy.KindScript, policy.Tier1Operations, "cron")
	e.Do(t, "GET", "Users", "", "Authorization", "Bearer "+cron).Must(t, http.StatusOK)
	for range 50 {
		e.Do(t, "GET", "Users?count=1", "").Must(t, http.StatusOK)
	}
	metrics := string(e.Do(t, "GET", "/metrics", "").Must(t, http.StatusOK).Body)
	if !strings.Contains(metrics, `scimbridge_rate_limited_requests_total{kind="person"} 4`) {
		t.Fatalf("refusals not counted:\n%s", grepLines(metrics, "rate_limit"))
	}
	if !strings.Contains(metrics, `scimbridge_http_requests_total{method="GET",route="/scim/v2/users",status="429"}`) {
		t.Fatalf("429 not in the request metrics:\n%s", grepLines(metrics, "429"))
	}
}

// TestRateLimitSecretsWhenConfigured: a provisioning secret is limited
// once --rate-limit-secrets is set, and a bad credential never spends a
// real one's budget (it is refused before any bucket is touched).
func TestRateLimitSecretsWhenConfigured(t *testing.T) {
	st := servertest.Stores()["sqlite"](t)
	e := servertest.NewWith(t, server.Deps{Store: st, RateLimit: ratelimit.Config{Secrets: ratelimit.Rule{Rate: 0.01, Burst: 2}}})
	for range 5 {
		e.Do(t, "GET", "Users", "", "Authorization", "Bearer wrong-secret").Must(t, http.StatusUnauthorized)
	}
	e.Do(t, "GET", "Users", "").Must(t, http.StatusOK)
	e.Do(t, "GET", "Users", "").Must(t, http.StatusOK)
	r := e.Do(t, "POST", "Users", `{"userName":"x"}`)
	r.MustError(t, http.StatusTooManyRequests, "")
	e.Do(t, "GET", "Users?filter=userName%20eq%20%22x%22", "", "Authorization", "Bearer "+e.NewToken(t, "default", "other", policy.Tier3Engineering)).
		Must(t, http.StatusOK)
	if got := e.Do(t, "GET", "Users?filter=userName%20eq%20%22x%22", "", "Authorization", "Bearer "+e.NewToken(t, "default", "other2", policy.Tier3Engineering)).
		JSON(t)["totalResults"]; got.(interface{ String() string }).String() != "0" {
		t.Fatalf("the refused POST created a user: totalResults %v", got)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
