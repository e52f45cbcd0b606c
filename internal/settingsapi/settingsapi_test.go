package settingsapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

const full = `{"sources":["slack"],"roles":["Admin","User"],"offices":["Paris"],
	"orgFields":[{"name":"costCenter","type":"string"},{"name":"hireDate","type":"date","description":"First day"}],
	"notifications":{"signInUrl":"https://login.example.com","from":"it@example.com"}}`

func settingsOf(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	return m
}

func auth(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestSettingsAPI(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		helpDesk := e.NewToken(t, store.DefaultTenant, "hd", policy.Tier0HelpDesk)
		partner := e.NewToken(t, store.DefaultTenant, "sp", policy.Tier2SoftwarePartner)
		r := e.Do(t, "GET", "/settings", "", auth(helpDesk)...).Must(t, http.StatusOK)
		if r.Header.Get("ETag") != `W/"0"` || !strings.Contains(string(r.Body), `"roles":[]`) {
			t.Fatalf("fresh settings: %s %s", r.Header.Get("ETag"), r.Body)
		}
		e.Do(t, "PUT", "/settings", full, auth(partner)...).MustError(t, http.StatusForbidden, "")
		r = e.Do(t, "PUT", "/settings", full).Must(t, http.StatusOK)
		if r.Header.Get("ETag") != `W/"1"` || settingsOf(t, r)["version"] != float64(1) {
			t.Fatalf("after PUT: %s %s", r.Header.Get("ETag"), r.Body)
		}
		e.Do(t, "PUT", "/settings", full, "If-Match", `W/"0"`).MustError(t, http.StatusPreconditionFailed, "")
		e.Do(t, "PATCH", "/settings", `{"roles":["Admin","User","Coordinator"]}`, "If-Match", `W/"1"`).Must(t, http.StatusOK)
		got := settingsOf(t, e.Do(t, "GET", "/settings", "", auth(helpDesk)...).Must(t, http.StatusOK))
		if len(got["roles"].([]any)) != 3 || got["offices"].([]any)[0] != "Paris" || got["version"] != float64(2) {
			t.Fatalf("after PATCH: %v", got)
		}
		e.Do(t, "PATCH", "/settings", `{"office":["Lyon"]}`).MustError(t, http.StatusBadRequest, "invalidSyntax")
		e.Do(t, "PUT", "/settings", `{"roles":["Team Lead"]}`).MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "PUT", "/settings", `{"roles":`).MustError(t, http.StatusBadRequest, "invalidSyntax")
		e.Do(t, "PUT", "/settings", full, "If-Match", `banana`).MustError(t, http.StatusBadRequest, "invalidValue")
		ops := e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
		r = e.Do(t, "POST", "/settings/roles", `{"roles":["coordinator","Agent"]}`, auth(ops)...).Must(t, http.StatusOK)
		if string(r.Body) != "{\"added\":[\"Agent\"]}\n" {
			t.Fatalf("roles added: %s", r.Body)
		}
		e.Do(t, "GET", "/settings/outbox", "", auth(ops)...).MustError(t, http.StatusForbidden, "")
		r = e.Do(t, "GET", "/settings/outbox?state=pending", "", auth(partner)...).Must(t, http.StatusOK)
		if string(r.Body) != "{\"messages\":[]}\n" {
			t.Fatalf("outbox: %s", r.Body)
		}
		e.Do(t, "GET", "/settings/outbox?limit=x", "", auth(partner)...).MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "GET", "/settings/nope", "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "GET", "/settings", "", "Authorization", "").Must(t, http.StatusUnauthorized)
	})
}

// TestSchemasPerTenant: a tenant's organisation fields appear in its
// /Schemas and /ResourceTypes and on its users, filterable; another
// tenant sees none of it.
func TestSchemasPerTenant(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		if err := e.Store.CreateTenant(t.Context(), "acme", time.Now()); err != nil {
			t.Fatal(err)
		}
		acme := e.NewToken(t, "acme", "acme-admin", policy.Tier3Engineering)
		e.Do(t, "GET", "Schemas/"+schema.OrgURN, "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "PUT", "/settings", full).Must(t, http.StatusOK)
		s := e.Do(t, "GET", "Schemas/"+schema.OrgURN, "").Must(t, http.StatusOK).JSON(t)
		attrs, _ := s["attributes"].([]any)
		if len(attrs) != 2 || attrs[1].(map[string]any)["name"] != "hireDate" {
			t.Fatalf("organisation schema: %v", s)
		}
		list := e.Do(t, "GET", "Schemas", "").Must(t, http.StatusOK)
		if !strings.Contains(string(list.Body), schema.OrgURN) {
			t.Fatal("/Schemas lacks the organisation extension")
		}
		rt := e.Do(t, "GET", "ResourceTypes/User", "").Must(t, http.StatusOK)
		if !strings.Contains(string(rt.Body), schema.OrgURN) {
			t.Fatalf("ResourceTypes/User: %s", rt.Body)
		}
		for _, path := range []string{"Schemas", "ResourceTypes/User"} {
			if r := e.Do(t, "GET", path, "", auth(acme)...).Must(t, http.StatusOK); strings.Contains(string(r.Body), schema.OrgURN) {
				t.Fatalf("another tenant's %s shows the extension", path)
			}
		}
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + schema.OrgURN + `"],"userName":"ann",
			"` + schema.OrgURN + `":{"costCenter":"CC-1","hireDate":"2024-01-31"}}`
		created := e.Do(t, "POST", "Users", body).Must(t, http.StatusCreated).JSON(t)
		schemas := created["schemas"].([]any)
		if !slices.Contains(schemas, any(schema.OrgURN)) || created[schema.OrgURN].(map[string]any)["hireDate"] != "2024-01-31" {
			t.Fatalf("created user: %v", created)
		}
		bad := strings.Replace(body, "2024-01-31", "31.01.2024", 1)
		e.Do(t, "POST", "Users", strings.Replace(bad, `"ann"`, `"bob"`, 1)).MustError(t, http.StatusBadRequest, "invalidValue")
		found := e.Do(t, "GET", `Users?filter=`+schema.OrgURN+`:costCenter%20eq%20%22CC-1%22`, "").Must(t, http.StatusOK).JSON(t)
		if found["totalResults"] != json.Number("1") {
			t.Fatalf("filter: %v", found)
		}
		e.Do(t, "GET", `Users?filter=`+schema.OrgURN+`:costCenter%20eq%20%22CC-1%22`, "", auth(acme)...).MustError(t, http.StatusBadRequest, "invalidFilter")
	})
}
