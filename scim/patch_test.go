package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

const (
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchSchema   = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
)

func patchBody(ops string) string { return `{` + patchSchema + `,"Operations":[` + ops + `]}` }

func getJSON(t *testing.T, e *servertest.Env, path string) map[string]any {
	t.Helper()
	return e.Do(t, "GET", path, "").Must(t, 200).JSON(t)
}

// Replay of Entra's user PATCH (capitalised ops; a filtered email path that
// must create the work email; string boolean).
func TestPatchEntraUserUpdate(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"entra@x.test","name":{"familyName":"Old","givenName":"G"},"emails":[{"value":"home@x.test","type":"home"}]}`)["id"].(string)
		ops := `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
			{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
			{"op":"Replace","path":"userName","value":"renamed@testuser.com"},
			{"op":"Replace","path":"active","value":"False"}`
		u := e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, http.StatusOK).JSON(t)
		if u["userName"] != "renamed@testuser.com" || u["active"] != false || fmt.Sprint(u["name"]) != "map[familyName:updatedFamilyName givenName:G]" {
			t.Fatalf("patched user %v", u)
		}
		emails := fmt.Sprint(u["emails"])
		if !strings.Contains(emails, "map[type:work value:updatedEmail@microsoft.com]") || !strings.Contains(emails, "home@x.test") {
			t.Fatalf("emails %s", emails)
		}
		list := e.Do(t, "GET", "Users?filter="+urlq(`emails[type eq "work"].value eq "updatedemail@microsoft.com"`), "").Must(t, 200).JSON(t)
		if fmt.Sprint(list["totalResults"]) != "1" {
			t.Fatal("patched email is not found by filter: the email rows were not updated")
		}
	})
}

// Entra with the aadOptscim062020 flag off sends path-less replaces whose
// keys are paths.
func TestPatchEntraPathlessDottedKeys(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"dotted"}`)["id"].(string)
		ops := `{"op":"replace","value":{"name.givenName":"Ada","active":false,"displayName":"Ada L",
			"` + enterpriseURN + `:department":"Math","emails[type eq \"work\"].value":"ada@x.test"}}`
		u := e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, 200).JSON(t)
		if fmt.Sprint(u["name"]) != "map[givenName:Ada]" || u["active"] != false || u["displayName"] != "Ada L" ||
			fmt.Sprint(u[enterpriseURN]) != "map[department:Math]" || !strings.Contains(fmt.Sprint(u["emails"]), "ada@x.test") {
			t.Fatalf("path-less patch: %v", u)
		}
	})
}

// Entra sends manager as a plain string id.
func TestPatchEntraManagerAsPlainString(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		boss := createUser(t, e, `{"userName":"boss"}`)["id"].(string)
		id := createUser(t, e, `{"userName":"worker"}`)["id"].(string)
		ops := fmt.Sprintf(`{"op":"Add","path":"%s:manager","value":%q}`, enterpriseURN, boss)
		u := e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, 200).JSON(t)
		if fmt.Sprint(u[enterpriseURN]) != fmt.Sprintf("map[manager:map[value:%s]]", boss) {
			t.Fatalf("manager %v", u[enterpriseURN])
		}
		ops = fmt.Sprintf(`{"op":"Remove","path":"%s:manager"}`, enterpriseURN)
		u = e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, 200).JSON(t)
		if _, ok := u[enterpriseURN]; ok {
			t.Fatalf("manager not removed: %v", u[enterpriseURN])
		}
	})
}

// Okta deactivates with a path-less replace.
func TestPatchOktaPathlessDeactivate(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"okta-user"}`)["id"].(string)
		u := e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"replace","value":{"active":false}}`)).Must(t, 200).JSON(t)
		if u["active"] != false {
			t.Fatal("not deactivated")
		}
	})
}

// Replay of Entra's group PATCH: rename, add a member, remove it with a
// value list ("$ref": null included).
func TestPatchEntraGroupRemoveMembersWithValueList(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		u := createUser(t, e, `{"userName":"m1"}`)["id"].(string)
		keep := createUser(t, e, `{"userName":"m2"}`)["id"].(string)
		g := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"G","members":[{"value":%q}]}`, keep)).Must(t, 201).JSON(t)["id"].(string)
		ops := fmt.Sprintf(`{"op":"Replace","path":"displayName","value":"G updated"},
			{"op":"Add","path":"members","value":[{"$ref":null,"value":%[1]q}]},
			{"op":"Remove","path":"members","value":[{"$ref":null,"value":%[1]q}]}`, u)
		resp := e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).Must(t, http.StatusNoContent)
		if resp.Header.Get("ETag") != `W/"2"` {
			t.Fatalf("ETag after group PATCH: %q", resp.Header.Get("ETag"))
		}
		got := getJSON(t, e, "Groups/"+g)
		if got["displayName"] != "G updated" || len(memberSet(t, got)) != 1 || memberSet(t, got)[keep] == nil {
			t.Fatalf("group %v", got)
		}
	})
}

// Replay of Okta's membership PATCH: remove members[value eq], add, replace.
func TestPatchOktaGroupMembership(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		a := createUser(t, e, `{"userName":"a"}`)["id"].(string)
		b := createUser(t, e, `{"userName":"b"}`)["id"].(string)
		g := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"Okta","members":[{"value":%q}]}`, b)).Must(t, 201).JSON(t)["id"].(string)
		ops := fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%[2]s\"]"},
			{"op":"add","path":"members","value":[{"value":%[1]q,"display":"test.user@okta.local"}]}`, a, b)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).Must(t, http.StatusNoContent)
		ms := memberSet(t, getJSON(t, e, "Groups/"+g))
		if len(ms) != 1 || ms[a]["display"] != "test.user@okta.local" {
			t.Fatalf("after remove+add: %v", ms)
		}
		ops = fmt.Sprintf(`{"op":"replace","path":"members","value":[{"value":%q},{"value":%q}]}`, a, b)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).Must(t, http.StatusNoContent)
		if ms := memberSet(t, getJSON(t, e, "Groups/"+g)); len(ms) != 2 {
			t.Fatalf("after replace: %v", ms)
		}
		e.Do(t, "PATCH", "Groups/"+g, patchBody(`{"op":"remove","path":"members"}`)).Must(t, http.StatusNoContent)
		if _, ok := getJSON(t, e, "Groups/"+g)["members"]; ok {
			t.Fatal("remove members left members")
		}
	})
}

// Okta renames groups with a path-less replace that repeats the id.
func TestPatchOktaPathlessReplaceWithSameID(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		g := e.Do(t, "POST", "Groups", `{"displayName":"Before"}`).Must(t, 201).JSON(t)["id"].(string)
		ops := fmt.Sprintf(`{"op":"replace","value":{"id":%q,"displayName":"Test SCIMv2"}}`, g)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).Must(t, http.StatusNoContent)
		if getJSON(t, e, "Groups/"+g)["displayName"] != "Test SCIMv2" {
			t.Fatal("not renamed")
		}
		ops = `{"op":"replace","value":{"id":"0b1e2a6c-5f7e-4e53-9b3c-2d8c1f0a9e77","displayName":"X"}}`
		e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).MustError(t, 400, "mutability")
	})
}

// Microsoft's collection adds members with displayName instead of
// display, and as bare id strings.
func TestPatchMembersWithDisplayNameAndBareStrings(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		a := createUser(t, e, `{"userName":"a"}`)["id"].(string)
		b := createUser(t, e, `{"userName":"b"}`)["id"].(string)
		g := e.Do(t, "POST", "Groups", `{"displayName":"MS"}`).Must(t, 201).JSON(t)["id"].(string)
		ops := fmt.Sprintf(`{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new User","value":%q}]}`, a)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(ops)).Must(t, http.StatusNoContent)
		e.Do(t, "PATCH", "Groups/"+g, patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":%q}`, b))).Must(t, http.StatusNoContent)
		got := e.Do(t, "GET", "Groups/"+g, "").Must(t, 200)
		if !strings.Contains(string(got.Body), "new User") || len(memberSet(t, got.JSON(t))) != 2 {
			t.Fatalf("members: %s", got.Body)
		}
		e.Do(t, "PATCH", "Groups/"+g, patchBody(`{"op":"add","path":"members","value":"string id 1"}`)).MustError(t, 400, "invalidValue")
	})
}

func TestPatchInvalidOperationLeavesResourceUnchanged(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, bjensen)["id"].(string)
		before := e.Do(t, "GET", "Users/"+id, "").Must(t, 200).Body
		bad := []struct{ ops, scimType string }{
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"id","value":"other"}`, "mutability"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"groups","value":[]}`, "mutability"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"remove","path":"emails[type eq \"fax\"]"}`, "noTarget"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"add","path":"nickName","value":42}`, "invalidValue"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"remove","path":"userName"}`, "invalidValue"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"move","path":"title","value":"x"}`, "invalidSyntax"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"favouriteColour","value":"x"}`, "invalidPath"},
			{`{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"emails[type eq ","value":"x"}`, "invalidPath"},
			{`{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}`, "mutability"},
			{`{"op":"remove"}`, "noTarget"},
		}
		for _, c := range bad {
			e.Do(t, "PATCH", "Users/"+id, patchBody(c.ops)).MustError(t, 400, c.scimType)
		}
		e.Do(t, "PATCH", "Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`).MustError(t, 400, "invalidSyntax")
		after := e.Do(t, "GET", "Users/"+id, "").Must(t, 200).Body
		if string(before) != string(after) {
			t.Fatalf("a rejected PATCH changed the user:\n%s\n%s", before, after)
		}
	})
}

func TestPatchMultiValuedAttributes(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"mv","emails":[{"value":"a@x.test","type":"work","primary":true}]}`)["id"].(string)
		u := e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"add","path":"emails","value":[{"value":"b@x.test","type":"home","primary":true}]}`)).Must(t, 200).JSON(t)
		if fmt.Sprint(u["emails"]) != "[map[primary:false type:work value:a@x.test] map[primary:true type:home value:b@x.test]]" {
			t.Fatalf("add to emails (one primary): %v", u["emails"])
		}
		u = e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"remove","path":"emails[type eq \"work\"]"}`)).Must(t, 200).JSON(t)
		if fmt.Sprint(u["emails"]) != "[map[primary:true type:home value:b@x.test]]" {
			t.Fatalf("remove filtered: %v", u["emails"])
		}
		u = e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"remove","path":"emails"}`)).Must(t, 200).JSON(t)
		if _, ok := u["emails"]; ok {
			t.Fatalf("remove emails: %v", u["emails"])
		}
		u = e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"replace","path":"phoneNumbers","value":[{"value":"+1 555","type":"work"}]}`)).Must(t, 200).JSON(t)
		if fmt.Sprint(u["phoneNumbers"]) != "[map[type:work value:+1 555]]" {
			t.Fatalf("replace phoneNumbers: %v", u["phoneNumbers"])
		}
	})
}

func TestPatchResponses(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"resp"}`)["id"].(string)
		ops := patchBody(`{"op":"replace","path":"title","value":"T"}`)
		e.Do(t, "PATCH", "Users/"+id, ops, "Prefer", "return=minimal").Must(t, http.StatusNoContent)
		r := e.Do(t, "PATCH", "Users/"+id+"?attributes=title", ops).Must(t, 200).JSON(t)
		if strings.Join(sortedKeys(r), ",") != "id,schemas,title" {
			t.Fatalf("attributes on PATCH: %v", r)
		}
		g := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"R","members":[{"value":%q}]}`, id)).Must(t, 201).JSON(t)["id"].(string)
		gops := patchBody(`{"op":"replace","path":"displayName","value":"R2"}`)
		e.Do(t, "PATCH", "Groups/"+g, gops).Must(t, http.StatusNoContent)
		full := e.Do(t, "PATCH", "Groups/"+g, gops, "Prefer", "return=representation").Must(t, 200).JSON(t)
		if len(memberSet(t, full)) != 1 {
			t.Fatalf("representation lacks members: %v", full)
		}
	})
}

func TestETags(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"etag"}`)["id"].(string)
		e.Do(t, "GET", "Users/"+id, "", "If-None-Match", `W/"1"`).Must(t, http.StatusNotModified)
		e.Do(t, "GET", "Users/"+id, "", "If-None-Match", `W/"7"`).Must(t, 200)
		ops := patchBody(`{"op":"replace","path":"title","value":"T"}`)
		e.Do(t, "PATCH", "Users/"+id, ops, "If-Match", `W/"9"`).MustError(t, http.StatusPreconditionFailed, "")
		e.Do(t, "PUT", "Users/"+id, `{"userName":"etag"}`, "If-Match", `W/"9"`).MustError(t, http.StatusPreconditionFailed, "")
		e.Do(t, "DELETE", "Users/"+id, "", "If-Match", `W/"9"`).MustError(t, http.StatusPreconditionFailed, "")
		r := e.Do(t, "PATCH", "Users/"+id, ops, "If-Match", `W/"1"`).Must(t, 200)
		if r.Header.Get("ETag") != `W/"2"` {
			t.Fatalf("ETag after PATCH %q", r.Header.Get("ETag"))
		}
		e.Do(t, "PUT", "Users/"+id, `{"userName":"etag"}`, "If-Match", `"2"`).Must(t, 200)
		// The same content again changes nothing, so the version stays 3.
		same := e.Do(t, "PUT", "Users/"+id, `{"userName":"etag"}`, "If-Match", `W/"1", W/"3"`).Must(t, 200)
		if same.Header.Get("ETag") != `W/"3"` {
			t.Fatalf("ETag after an identical PUT %q, want W/\"3\"", same.Header.Get("ETag"))
		}
		e.Do(t, "DELETE", "Users/"+id, "", "If-Match", `W/"2", W/"4"`).MustError(t, http.StatusPreconditionFailed, "")
		e.Do(t, "DELETE", "Users/"+id, "", "If-Match", `W/"3"`).Must(t, http.StatusNoContent)
		g := e.Do(t, "POST", "Groups", `{"displayName":"E"}`).Must(t, 201).JSON(t)["id"].(string)
		e.Do(t, "DELETE", "Groups/"+g, "", "If-Match", `W/"2"`).MustError(t, http.StatusPreconditionFailed, "")
		e.Do(t, "DELETE", "Groups/"+g, "", "If-Match", `*`).Must(t, http.StatusNoContent)
	})
}

func TestNestedGroupCyclesRejected(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		g3 := e.Do(t, "POST", "Groups", `{"displayName":"G3"}`).Must(t, 201).JSON(t)["id"].(string)
		g2 := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"G2","members":[{"value":%q}]}`, g3)).Must(t, 201).JSON(t)["id"].(string)
		g1 := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"G1","members":[{"value":%q}]}`, g2)).Must(t, 201).JSON(t)["id"].(string)
		e.Do(t, "PATCH", "Groups/"+g3, patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, g1))).MustError(t, 400, "invalidValue")
		e.Do(t, "PUT", "Groups/"+g3, fmt.Sprintf(`{"displayName":"G3","members":[{"value":%q}]}`, g1)).MustError(t, 400, "invalidValue")
		e.Do(t, "PATCH", "Groups/"+g1, patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, g1))).MustError(t, 400, "invalidValue")
		e.Do(t, "PATCH", "Groups/"+g1, patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, g3))).Must(t, http.StatusNoContent)
	})
}

func TestRacingCreatesOfOneUserName(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		names := []string{"race@x.test", "RACE@x.test", "Race@X.test", "race@x.TEST"}
		statuses := make([]int, 12)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":%q}`, names[i%len(names)])).Status
			})
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case 201:
				created++
			case 409:
			default:
				t.Fatalf("status %d in %v", s, statuses)
			}
		}
		if created != 1 {
			t.Fatalf("%d creates succeeded: %v", created, statuses)
		}
	})
}

func TestConcurrentMemberPatchesLoseNothing(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		g := e.Do(t, "POST", "Groups", `{"displayName":"Busy"}`).Must(t, 201).JSON(t)["id"].(string)
		ids := make([]string, 16)
		for i := range ids {
			ids[i] = createUser(t, e, fmt.Sprintf(`{"userName":"busy%d"}`, i))["id"].(string)
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				ops := patchBody(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, id))
				if r := e.Do(t, "PATCH", "Groups/"+g, ops); r.Status != http.StatusNoContent {
					t.Errorf("PATCH: %d %s", r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		got := getJSON(t, e, "Groups/"+g)
		if len(memberSet(t, got)) != len(ids) || got["meta"].(map[string]any)["version"] != fmt.Sprintf(`W/"%d"`, len(ids)+1) {
			t.Fatalf("%d members, version %v", len(memberSet(t, got)), got["meta"])
		}
	})
}
