package scim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

func TestAuthentication(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for _, h := range []string{"", "Bearer", "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer " + e.Token + "x", "Token " + e.Token} {
			r := e.Do(t, "GET", "Users", "", "Authorization", h)
			r.MustError(t, http.StatusUnauthorized, "")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("401 without WWW-Authenticate for %q", h)
			}
		}
		e.Do(t, "GET", "Users", "", "Authorization", e.Token).Must(t, 200)
		e.Do(t, "GET", "Users", "", "Authorization", "bearer "+e.Token).Must(t, 200)
		e.Do(t, "GET", "ServiceProviderConfig", "", "Authorization", "").MustError(t, 401, "")
	})
}

func TestTenantIsolation(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"shared-name"}`)["id"].(string)
		if err := e.Store.CreateTenant(t.Context(), "acme", nowUTC()); err != nil {
			t.Fatal(err)
		}
		acme := "Authorization"
		tok := "Bearer " + e.NewToken(t, "acme", "acme-okta", policy.Tier2SoftwarePartner)
		e.Do(t, "GET", "Users/"+id, "", acme, tok).MustError(t, 404, "")
		e.Do(t, "PUT", "Users/"+id, `{"userName":"stolen"}`, acme, tok).MustError(t, 404, "")
		e.Do(t, "DELETE", "Users/"+id, "", acme, tok).MustError(t, 404, "")
		e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"g","members":[{"value":%q}]}`, id), acme, tok).MustError(t, 400, "invalidValue")
		list := e.Do(t, "GET", "Users", "", acme, tok).Must(t, 200).JSON(t)
		if list["totalResults"] != json.Number("0") {
			t.Fatalf("acme sees default's users: %v", list)
		}
		e.Do(t, "POST", "Users", `{"userName":"shared-name"}`, acme, tok).Must(t, 201)
		e.Do(t, "GET", "Users/"+id, "").Must(t, 200)
	})
}

func TestClientTolerance(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		// Okta/Entra: application/json, attribute names in any case, string booleans.
		body := `{"UserName":"Entra@Example.com","Active":"False","Name":{"GivenName":"E"},"Emails":[{"Value":"e@x.test","Primary":"True"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Manager":{"Value":"m-1"}},"externalId":"dup"}`
		u := e.Do(t, "POST", "users/", body, "Content-Type", "application/json").Must(t, 201).JSON(t)
		if u["userName"] != "Entra@Example.com" || u["active"] != false || u["name"].(map[string]any)["givenName"] != "E" {
			t.Fatalf("tolerant create: %v", u)
		}
		if u["emails"].([]any)[0].(map[string]any)["primary"] != true {
			t.Fatalf("string boolean in emails: %v", u["emails"])
		}
		mgr := u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["manager"].(map[string]any)
		if mgr["value"] != "m-1" {
			t.Fatalf("manager %v", mgr)
		}
		// externalId is not unique.
		e.Do(t, "POST", "Users", `{"userName":"other","externalId":"dup"}`).Must(t, 201)
		// Endpoint names in any case and trailing slashes.
		for _, p := range []string{"USERS", "users/", "Users/", "groups", "serviceproviderconfig", "serviceConfiguration", "schemas/", "RESOURCETYPES"} {
			e.Do(t, "GET", p, "").Must(t, 200)
		}
		e.Do(t, "GET", "users/"+u["id"].(string)+"/", "").Must(t, 200)
		// Active "True" comes back as a boolean true.
		r := e.Do(t, "POST", "Users", `{"userName":"t","active":"True"}`).Must(t, 201).JSON(t)
		if r["active"] != true {
			t.Fatalf("active %v", r["active"])
		}
	})
}

func TestListPaging(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		empty := e.Do(t, "GET", "Users", "").Must(t, 200)
		if !strings.Contains(string(empty.Body), `"Resources":[]`) || !strings.Contains(string(empty.Body), `"totalResults":0`) {
			t.Fatalf("empty list: %s", empty.Body)
		}
		for i := 0; i < 5; i++ {
			createUser(t, e, fmt.Sprintf(`{"userName":"p%d"}`, i))
		}
		check := func(query string, start, perPage int, first string) {
			t.Helper()
			l := e.Do(t, "GET", "Users?"+query, "").Must(t, 200).JSON(t)
			if l["totalResults"] != json.Number("5") || l["startIndex"] != json.Number(fmt.Sprint(start)) || l["itemsPerPage"] != json.Number(fmt.Sprint(perPage)) {
				t.Fatalf("%s: %v", query, l)
			}
			res := l["Resources"].([]any)
			if len(res) != perPage || (first != "" && res[0].(map[string]any)["userName"] != first) {
				t.Fatalf("%s: resources %v", query, res)
			}
		}
		check("", 1, 5, "p0")
		check("startIndex=2&count=2", 2, 2, "p1")
		check("startIndex=5&count=10", 5, 1, "p4")
		check("startIndex=6", 6, 0, "")
		check("count=0", 1, 0, "")
		check("startIndex=0&count=1", 1, 1, "p0")
		check("startIndex=-3&count=-1", 1, 0, "")
		check("count=99999999999999999999", 1, 5, "p0")
		e.Do(t, "GET", "Users?count=abc", "").MustError(t, 400, "invalidValue")
		filtered := e.Do(t, "GET", "Users?filter="+strings.ReplaceAll(`userName eq "P1"`, " ", "+"), "").Must(t, 200).JSON(t)
		if filtered["totalResults"] != json.Number("1") {
			t.Fatalf("filtered list %v", filtered)
		}
	})
}

func TestMaxResultsClamp(t *testing.T) {
	st := servertest.Backends()["sqlite"](t)
	e := servertest.New(t, st, scimConfigMaxResults(2))
	for i := 0; i < 3; i++ {
		createUser(t, e, fmt.Sprintf(`{"userName":"c%d"}`, i))
	}
	l := e.Do(t, "GET", "Users?count=50", "").Must(t, 200).JSON(t)
	if l["itemsPerPage"] != json.Number("2") || l["totalResults"] != json.Number("3") {
		t.Fatalf("clamp: %v", l)
	}
}

func TestDiscovery(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		spc := e.Do(t, "GET", "ServiceProviderConfig", "").Must(t, 200).JSON(t)
		for f, want := range map[string]bool{"patch": true, "bulk": true, "filter": true, "sort": true, "etag": true, "changePassword": false} {
			if spc[f].(map[string]any)["supported"] != want {
				t.Fatalf("%s.supported = %v, want %v", f, spc[f], want)
			}
		}
		pg := spc["pagination"].(map[string]any)
		if pg["cursor"] != true || pg["index"] != true || pg["cursorTimeout"] != json.Number("3600") || pg["maxPageSize"] != json.Number("200") {
			t.Fatalf("pagination %v", pg)
		}
		if spc["filter"].(map[string]any)["maxResults"] != json.Number("200") || len(spc["authenticationSchemes"].([]any)) != 1 {
			t.Fatalf("spc %v", spc)
		}
		schemas := e.Do(t, "GET", "Schemas", "").Must(t, 200).JSON(t)
		var ids []string
		for _, s := range schemas["Resources"].([]any) {
			ids = append(ids, s.(map[string]any)["id"].(string))
		}
		want := "urn:ietf:params:scim:schemas:core:2.0:User urn:ietf:params:scim:schemas:core:2.0:Group urn:ietf:params:scim:schemas:extension:enterprise:2.0:User urn:scimbridge:params:scim:schemas:extension:support:2.0:User"
		if strings.Join(ids, " ") != want {
			t.Fatalf("schemas %v", ids)
		}
		one := e.Do(t, "GET", "Schemas/urn:scimbridge:params:scim:schemas:extension:support:2.0:User", "").Must(t, 200).JSON(t)
		if !strings.Contains(fmt.Sprint(one["attributes"]), "support-tier-3-engineering") {
			t.Fatalf("support schema lacks the tiers: %v", one)
		}
		e.Do(t, "GET", "Schemas/urn:nope", "").MustError(t, 404, "")
		rts := e.Do(t, "GET", "ResourceTypes", "").Must(t, 200).JSON(t)
		if rts["totalResults"] != json.Number("2") {
			t.Fatalf("resource types %v", rts)
		}
		user := e.Do(t, "GET", "ResourceTypes/User", "").Must(t, 200).JSON(t)
		if user["endpoint"] != "/Users" || len(user["schemaExtensions"].([]any)) != 2 {
			t.Fatalf("User resource type %v", user)
		}
	})
}

func TestUnknownEndpointsAndMethods(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		e.Do(t, "GET", "Widgets", "").MustError(t, 404, "")
		e.Do(t, "PATCH", "ServiceProviderConfig", `{}`).MustError(t, http.StatusMethodNotAllowed, "")
		e.Do(t, "DELETE", "Users", "").MustError(t, http.StatusMethodNotAllowed, "")
	})
}

func TestOperationalEndpoints(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		e.Do(t, "GET", "/healthz", "").Must(t, 200)
		e.Do(t, "GET", "/readyz", "").Must(t, 200)
		createUser(t, e, `{"userName":"m"}`)
		resp, err := http.Get(e.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`scimbridge_http_requests_total{method="POST",route="/scim/v2/users",status="201"} 1`,
			`scimbridge_store_duration_seconds_count{op="create_user",outcome="ok"} 1`, "scimbridge_http_request_duration_seconds"} {
			if !strings.Contains(string(b), want) {
				t.Fatalf("metrics lack %q", want)
			}
		}
		r := e.Do(t, "GET", "Users", "", "X-Request-Id", "req-123")
		if r.Header.Get("X-Request-Id") != "req-123" {
			t.Fatalf("request id not echoed: %v", r.Header)
		}
	})
}

func TestReadyzFailsWhenStoreIsClosed(t *testing.T) {
	st := servertest.Backends()["sqlite"](t)
	e := servertest.New(t, st, scimConfigMaxResults(0))
	st.Close()
	e.Do(t, "GET", "/readyz", "").Must(t, http.StatusServiceUnavailable)
	e.Do(t, "GET", "/healthz", "").Must(t, http.StatusOK)
}
