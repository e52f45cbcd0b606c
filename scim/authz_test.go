package scim_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/scim"
)

// routeRule says how to call a route validly and which operation of the
// policy table governs it ("" for discovery, open to every caller).
type routeRule struct {
	op     policy.Operation
	ok     int
	target string // "user", "group" or "" for no target resource
	body   string
}

var routeRules = map[string]routeRule{
	"GET /ServiceProviderConfig": {"", 200, "", ""},
	"GET /Schemas":               {"", 200, "", ""},
	"GET /Schemas/{id}":          {"", 200, "", ""},
	"GET /ResourceTypes":         {"", 200, "", ""},
	"GET /ResourceTypes/{id}":    {"", 200, "", ""},
	"GET /Users":                 {policy.UserRead, 200, "", ""},
	"POST /Users":                {policy.UserCreate, 201, "", `{"userName":"new-%s"}`},
	"POST /Users/.search":        {policy.UserRead, 200, "", `{}`},
	"GET /Users/{id}":            {policy.UserRead, 200, "user", ""},
	"PUT /Users/{id}":            {policy.UserUpdate, 200, "user", `{"userName":"%s","title":"x"}`},
	"PATCH /Users/{id}":          {policy.UserUpdate, 200, "user", `{"Operations":[{"op":"replace","path":"title","value":"y"}]}`},
	"DELETE /Users/{id}":         {policy.UserDelete, 204, "user", ""},
	"GET /Groups":                {policy.GroupRead, 200, "", ""},
	"POST /Groups":               {policy.GroupCreate, 201, "", `{"displayName":"g-%s"}`},
	"POST /Groups/.search":       {policy.GroupRead, 200, "", `{}`},
	"GET /Groups/{id}":           {policy.GroupRead, 200, "group", ""},
	"PUT /Groups/{id}":           {policy.GroupUpdate, 200, "group", `{"displayName":"%s"}`},
	"PATCH /Groups/{id}":         {policy.GroupUpdate, 204, "group", `{"Operations":[{"op":"replace","path":"displayName","value":"z"}]}`},
	"DELETE /Groups/{id}":        {policy.GroupDelete, 204, "group", ""},
	"POST /.search":              {policy.UserRead, 200, "", `{}`},
	"POST /Bulk":                 {policy.BulkRun, 200, "", `{"Operations":[{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"bulk-%s"}}]}`},
	"GET /Me":                    {policy.SelfRead, 200, "me", ""},
}

func TestEveryRouteHasAPolicyRule(t *testing.T) {
	h := scim.New(scim.Config{Service: directory.New(nil, schema.New())})
	var missing []string
	for _, r := range h.Routes() {
		if _, ok := routeRules[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("routes without an authorisation rule in the matrix: %v", missing)
	}
	if len(h.Routes()) != len(routeRules) {
		t.Fatalf("the matrix lists routes the handler does not serve: %d rules, %d routes", len(routeRules), len(h.Routes()))
	}
}

// TestAuthorisationMatrix calls every route as every tier of every kind
// of principal and expects the status the policy table gives.
func TestAuthorisationMatrix(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	routes := make([]string, 0, len(routeRules))
	for r := range routeRules {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	n := 0
	for _, kind := range []policy.Kind{policy.KindProvisioner, policy.KindPerson, policy.KindScript} {
		for _, tier := range []policy.Tier{policy.Tier0HelpDesk, policy.Tier1Operations, policy.Tier2SoftwarePartner, policy.Tier3Engineering} {
			for _, route := range routes {
				n++
				checkCell(t, e, kind, tier, route, n)
			}
		}
	}
}

func checkCell(t *testing.T, e *servertest.Env, kind policy.Kind, tier policy.Tier, route string, n int) {
	t.Helper()
	rule := routeRules[route]
	userName := fmt.Sprintf("person-%d", n)
	method, path, _ := strings.Cut(route, " ")
	path = strings.TrimPrefix(path, "/")
	switch rule.target {
	case "user":
		path = strings.Replace(path, "{id}", createUser(t, e, fmt.Sprintf(`{"userName":"target-%d"}`, n))["id"].(string), 1)
	case "group":
		path = strings.Replace(path, "{id}", e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"tg-%d"}`, n)).Must(t, 201).JSON(t)["id"].(string), 1)
	case "me":
		createUser(t, e, fmt.Sprintf(`{"userName":%q}`, userName))
	}
	path = strings.Replace(strings.Replace(path, "{id}", "User", 1), "Schemas/User", "Schemas/"+schema.UserURN, 1)
	body := rule.body
	if strings.Contains(body, "%s") {
		body = fmt.Sprintf(body, fmt.Sprintf("%d", n))
	}
	want := rule.ok
	if rule.op != "" && !policy.Allowed(policy.Principal{Tenant: "default", Kind: kind, Tier: tier}, rule.op,
		policy.Effect{TargetTierBefore: policy.TierNone, TargetTierAfter: policy.TierNone}) {
		want = http.StatusForbidden
	}
	got := e.Do(t, method, path, body, "Authorization", "Bearer "+token(t, e, kind, tier, userName))
	if got.Status != want {
		t.Errorf("%s as %s %s: status %d, want %d: %s", route, kind, tier, got.Status, want, got.Body)
	}
}

func token(t *testing.T, e *servertest.Env, kind policy.Kind, tier policy.Tier, userName string) string {
	if kind == policy.KindProvisioner {
		return e.NewToken(t, "default", "matrix-"+userName, tier)
	}
	return e.IdP.Token(t, kind, tier, userName)
}
