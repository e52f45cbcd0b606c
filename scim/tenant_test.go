package scim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// TestTenantIsolationMatrix calls every route that takes an id with tenant
// B's credential and tenant A's ids: always 404, never 403, never data.
func TestTenantIsolationMatrix(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		user := createUser(t, e, `{"userName":"a-user"}`)["id"].(string)
		group := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"a-group","members":[{"value":%q}]}`, user)).Must(t, 201).JSON(t)["id"].(string)
		if err := e.Store.CreateTenant(t.Context(), "b", nowUTC()); err != nil {
			t.Fatal(err)
		}
		b := []string{"Authorization", "Bearer " + e.NewToken(t, "b", "b-admin", policy.Tier3Engineering)}
		ids := map[string]string{"{id}": user, "{gid}": group}
		calls := []struct{ method, path, body string }{
			{"GET", "Users/{id}", ""}, {"PUT", "Users/{id}", `{"userName":"x"}`},
			{"PATCH", "Users/{id}", patchBody(`{"op":"replace","path":"title","value":"x"}`)}, {"DELETE", "Users/{id}", ""},
			{"GET", "Groups/{gid}", ""}, {"PUT", "Groups/{gid}", `{"displayName":"x"}`},
			{"PATCH", "Groups/{gid}", patchBody(`{"op":"add","path":"members","value":[{"value":"{id}"}]}`)}, {"DELETE", "Groups/{gid}", ""},
		}
		for _, c := range calls {
			path, body := c.path, c.body
			for k, v := range ids {
				path, body = strings.ReplaceAll(path, k, v), strings.ReplaceAll(body, k, v)
			}
			m := e.Do(t, c.method, path, body, b...).MustError(t, 404, "")
			if strings.Contains(fmt.Sprint(m), "a-user") || strings.Contains(fmt.Sprint(m), "a-group") {
				t.Fatalf("%s %s leaked data: %v", c.method, c.path, m)
			}
		}
		bulk := fmt.Sprintf(`{"Operations":[{"method":"DELETE","path":"/Users/%s"},{"method":"PATCH","path":"/Groups/%s","data":{"Operations":[{"op":"remove","path":"members"}]}}]}`, user, group)
		res := e.Do(t, "POST", "Bulk", bulk, b...).Must(t, 200).JSON(t)["Operations"].([]any)
		for _, r := range res {
			if r.(map[string]any)["status"] != "404" {
				t.Fatalf("bulk across tenants: %v", res)
			}
		}
		for _, list := range []string{"Users", "Groups", "Users?filter=" + urlq(`userName eq "a-user"`)} {
			if l := e.Do(t, "GET", list, "", b...).Must(t, 200).JSON(t); fmt.Sprint(l["totalResults"]) != "0" {
				t.Fatalf("%s lists tenant A's resources: %v", list, l)
			}
		}
		e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"b","members":[{"value":%q}]}`, user), b...).MustError(t, 400, "invalidValue")
		if g := getJSON(t, e, "Groups/"+group); len(memberSet(t, g)) != 1 {
			t.Fatal("tenant B changed tenant A's group")
		}
	})
}
