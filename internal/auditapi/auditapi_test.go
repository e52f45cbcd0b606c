package auditapi_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

func TestAuditLogOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		u := e.Do(t, "POST", "Users", `{"userName":"audited","title":"A"}`).Must(t, 201).JSON(t)["id"].(string)
		ops := `{"Operations":[{"op":"replace","path":"title","value":"B"},{"op":"replace","path":"password","value":"s3cret!"}]}`
		e.Do(t, "PATCH", "Users/"+u, ops, "X-Request-Id", "req-patch").Must(t, 200)
		e.Do(t, "POST", "Bulk", `{"Operations":[{"method":"DELETE","path":"/Users/`+u+`"}]}`).Must(t, 200)

		r := e.Do(t, "GET", "/audit/events?resource="+u, "").Must(t, 200)
		body := string(r.Body)
		for _, want := range []string{`"action":"delete"`, `"source":"bulk"`, `"action":"patch"`, `"request_id":"req-patch"`,
			`"attributes":["title"]`, `"action":"create"`, `"actor":"credential:test-admin"`, `"actor_tier":"support-tier-3-engineering"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("audit events lack %s: %s", want, body)
			}
		}
		if strings.Contains(body, "s3cret") || strings.Contains(body, "password") {
			t.Fatalf("audit log holds a secret or its attribute: %s", body)
		}
		c := e.Do(t, "GET", "/audit/events?format=csv&resource="+u, "").Must(t, 200)
		rows, err := csv.NewReader(strings.NewReader(string(c.Body))).ReadAll()
		if err != nil || len(rows) != 4 || rows[0][0] != "id" {
			t.Fatalf("CSV export: %v %q", err, c.Body)
		}
		t1 := "Bearer " + e.NewToken(t, "default", "ops", policy.Tier1Operations)
		e.Do(t, "GET", "/audit/events", "", "Authorization", t1).Must(t, http.StatusForbidden)
		e.Do(t, "GET", "/audit/events", "", "Authorization", "").Must(t, http.StatusUnauthorized)
		e.Do(t, "GET", "/audit/events?since=yesterday", "").Must(t, http.StatusBadRequest)
		l := e.Do(t, "GET", "/audit/events?actor=credential:test-admin&limit=1", "").Must(t, 200)
		if strings.Count(string(l.Body), `"id"`) != 1 {
			t.Fatalf("limit=1: %s", l.Body)
		}
	})
}
