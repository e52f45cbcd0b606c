package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

const bjensen = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "userName": "bjensen@example.com",
  "externalId": "701984",
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "displayName": "Babs Jensen",
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
  "password": "t1meMa$heen",
  "active": true,
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
  "urn:scimbridge:params:scim:schemas:extension:support:2.0:User": {"tier": "support-tier-1-operations", "sourceUserNames": [{"source": "slack", "value": "U123"}]}
}`

func createUser(t *testing.T, e *servertest.Env, body string) map[string]any {
	t.Helper()
	return e.Do(t, "POST", "Users", body).Must(t, http.StatusCreated).JSON(t)
}

func TestUserLifecycle(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		resp := e.Do(t, "POST", "Users", bjensen).Must(t, http.StatusCreated)
		u := resp.JSON(t)
		id := u["id"].(string)
		loc := e.URL + "/scim/v2/Users/" + id
		if resp.Header.Get("Location") != loc || resp.Header.Get("ETag") != `W/"1"` {
			t.Fatalf("Location %q ETag %q", resp.Header.Get("Location"), resp.Header.Get("ETag"))
		}
		if resp.Header.Get("Content-Type") != "application/scim+json" {
			t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
		if _, ok := u["password"]; ok {
			t.Fatal("password returned")
		}
		meta := u["meta"].(map[string]any)
		if meta["location"] != loc || meta["resourceType"] != "User" || meta["version"] != `W/"1"` {
			t.Fatalf("meta %v", meta)
		}
		ext := u["urn:scimbridge:params:scim:schemas:extension:support:2.0:User"].(map[string]any)
		if ext["tier"] != "support-tier-1-operations" || len(u["schemas"].([]any)) != 3 {
			t.Fatalf("extensions not kept: %s", resp.Body)
		}
		got := e.Do(t, "GET", "Users/"+id, "").Must(t, http.StatusOK)
		if got.Header.Get("ETag") != `W/"1"` || got.JSON(t)["userName"] != "bjensen@example.com" {
			t.Fatalf("GET: %s", got.Body)
		}

		put := strings.Replace(bjensen, `"Babs Jensen"`, `"Barbara J."`, 1)
		put = strings.Replace(put, `"userName"`, `"id": "ignored-readonly", "meta": {"version": "x"}, "userName"`, 1)
		replaced := e.Do(t, "PUT", "Users/"+id, put).Must(t, http.StatusOK)
		r := replaced.JSON(t)
		if r["displayName"] != "Barbara J." || r["id"] != id || replaced.Header.Get("ETag") != `W/"2"` {
			t.Fatalf("PUT result %s", replaced.Body)
		}
		if r["meta"].(map[string]any)["created"] != meta["created"] {
			t.Fatal("PUT changed meta.created")
		}

		e.Do(t, "DELETE", "Users/"+id, "").Must(t, http.StatusNoContent)
		e.Do(t, "GET", "Users/"+id, "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "DELETE", "Users/"+id, "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "PUT", "Users/"+id, bjensen).MustError(t, http.StatusNotFound, "")
	})
}

func TestPutReplacesAndDropsOmittedAttributes(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, bjensen)["id"].(string)
		r := e.Do(t, "PUT", "Users/"+id, `{"userName":"bjensen@example.com"}`).Must(t, http.StatusOK).JSON(t)
		for _, gone := range []string{"name", "emails", "displayName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
			if _, ok := r[gone]; ok {
				t.Fatalf("PUT without %s kept it: %v", gone, r)
			}
		}
		if r["active"] != true {
			t.Fatalf("PUT without active changed it: %v", r["active"])
		}
		e.Do(t, "PUT", "Users/"+id, `{"userName":"bjensen@example.com","active":false}`).Must(t, http.StatusOK)
		r = e.Do(t, "PUT", "Users/"+id, `{"userName":"bjensen@example.com"}`).Must(t, http.StatusOK).JSON(t)
		if r["active"] != false {
			t.Fatal("PUT without active re-activated a deactivated user")
		}
	})
}

func TestUserNameUniqueCaseInsensitive(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createUser(t, e, `{"userName":"Alice@Example.com"}`)
		m := e.Do(t, "POST", "Users", `{"userName":"alice@example.COM"}`).MustError(t, http.StatusConflict, "uniqueness")
		if !strings.Contains(m["detail"].(string), "alice@example.COM") {
			t.Fatalf("detail does not name the userName: %v", m["detail"])
		}
		other := createUser(t, e, `{"userName":"bob"}`)["id"].(string)
		e.Do(t, "PUT", "Users/"+other, `{"userName":"ALICE@example.com"}`).MustError(t, http.StatusConflict, "uniqueness")
	})
}

func TestBadUserBodies(t *testing.T) {
	cases := []struct {
		name, body, scimType, detail string
		status                       int
	}{
		{"malformed JSON", `{"userName": "x"`, "invalidSyntax", "not valid JSON", 400},
		{"garbage", `<xml/>`, "invalidSyntax", "not valid JSON", 400},
		{"array", `[{"userName":"x"}]`, "invalidSyntax", "JSON object", 400},
		{"empty", ` `, "invalidSyntax", "empty", 400},
		{"trailing data", `{"userName":"x"} {}`, "invalidSyntax", "after", 400},
		{"missing userName", `{"displayName":"x"}`, "invalidValue", "userName", 400},
		{"empty userName", `{"userName":""}`, "invalidValue", "userName", 400},
		{"userName number", `{"userName": 42}`, "invalidValue", "userName", 400},
		{"active not boolean", `{"userName":"x","active":"yes"}`, "invalidValue", "active", 400},
		{"emails not objects", `{"userName":"x","emails":["a@b.c"]}`, "invalidValue", "emails[0]", 400},
		{"name not object", `{"userName":"x","name":"Bob"}`, "invalidValue", "name", 400},
		{"bad tier", `{"userName":"x","urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"admin"}}`, "invalidValue", "tier", 400},
		{"extension not object", `{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, "invalidValue", "enterprise", 400},
		{"duplicate attribute spellings", `{"userName":"x","USERNAME":"y"}`, "invalidSyntax", "twice", 400},
		{"NUL in string", `{"userName":"a\u0000b"}`, "invalidValue", "NUL", 400},
	}
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for _, c := range cases {
			m := e.Do(t, "POST", "Users", c.body).MustError(t, c.status, c.scimType)
			if !strings.Contains(m["detail"].(string), c.detail) {
				t.Errorf("%s: detail %q does not mention %q", c.name, m["detail"], c.detail)
			}
		}
		list := e.Do(t, "GET", "Users", "").Must(t, 200).JSON(t)
		if list["totalResults"] != json.Number("0") {
			t.Fatalf("a rejected request left a user behind: %v", list["totalResults"])
		}
	})
}

func TestBodyLimitsAndContentType(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		huge := fmt.Sprintf(`{"userName":"x","displayName":%q}`, strings.Repeat("a", 2<<20))
		e.Do(t, "POST", "Users", huge).MustError(t, http.StatusRequestEntityTooLarge, "tooLarge")
		e.Do(t, "POST", "Users", `{"userName":"x"}`, "Content-Type", "text/plain").MustError(t, http.StatusUnsupportedMediaType, "invalidSyntax")
		e.Do(t, "POST", "Users", `{"userName":"json"}`, "Content-Type", "application/json; charset=utf-8").Must(t, http.StatusCreated)
	})
}

func TestOddIDs(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for _, id := range []string{"abc", strings.Repeat("9", 10000), "%F0%9F%98%80", "..%2F..%2Fetc", "00000000-0000-0000-0000-000000000000", "'%20OR%201=1--"} {
			e.Do(t, "GET", "Users/"+id, "").MustError(t, http.StatusNotFound, "")
			e.Do(t, "GET", "Groups/"+id, "").MustError(t, http.StatusNotFound, "")
			e.Do(t, "DELETE", "Users/"+id, "").MustError(t, http.StatusNotFound, "")
			e.Do(t, "PUT", "Groups/"+id, `{"displayName":"x"}`).MustError(t, http.StatusNotFound, "")
		}
	})
}
