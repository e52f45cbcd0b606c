package scim_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

func memberSet(t *testing.T, g map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := g["members"].([]any)
	for _, m := range list {
		mm := m.(map[string]any)
		out[mm["value"].(string)] = mm
	}
	return out
}

func TestGroupLifecycleWithMembers(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		alice := createUser(t, e, `{"userName":"alice","displayName":"Alice A."}`)["id"].(string)
		bob := createUser(t, e, `{"userName":"bob"}`)["id"].(string)
		inner := e.Do(t, "POST", "Groups", `{"displayName":"Inner"}`).Must(t, http.StatusCreated).JSON(t)["id"].(string)

		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:example:unknown:2.0:Group"],
			"displayName":"Ops","externalId":"ops-1","urn:example:unknown:2.0:Group":{"x":1},
			"members":[{"value":%q,"display":"Alice from IdP"},{"value":%q},{"value":%q,"type":"Group"}]}`, alice, bob, inner)
		resp := e.Do(t, "POST", "Groups", body).Must(t, http.StatusCreated)
		g := resp.JSON(t)
		gid := g["id"].(string)
		if resp.Header.Get("Location") != e.URL+"/scim/v2/Groups/"+gid || resp.Header.Get("ETag") != `W/"1"` {
			t.Fatalf("headers %v", resp.Header)
		}
		ms := memberSet(t, g)
		if len(ms) != 3 || ms[alice]["display"] != "Alice from IdP" || ms[bob]["display"] != "bob" || ms[inner]["type"] != "Group" {
			t.Fatalf("members %v", g["members"])
		}
		if ms[alice]["$ref"] != e.URL+"/scim/v2/Users/"+alice || ms[inner]["$ref"] != e.URL+"/scim/v2/Groups/"+inner || ms[bob]["type"] != "User" {
			t.Fatalf("member refs %v", g["members"])
		}

		u := e.Do(t, "GET", "Users/"+alice, "").Must(t, 200).JSON(t)
		groups := u["groups"].([]any)
		if len(groups) != 1 || groups[0].(map[string]any)["value"] != gid || groups[0].(map[string]any)["display"] != "Ops" {
			t.Fatalf("User.groups %v", u["groups"])
		}

		put := fmt.Sprintf(`{"displayName":"Ops renamed","members":[{"value":%q}]}`, bob)
		g = e.Do(t, "PUT", "Groups/"+gid, put).Must(t, 200).JSON(t)
		if g["displayName"] != "Ops renamed" || len(memberSet(t, g)) != 1 || g["externalId"] != nil {
			t.Fatalf("PUT group %v", g)
		}
		if _, ok := e.Do(t, "GET", "Users/"+alice, "").JSON(t)["groups"]; ok {
			t.Fatal("alice still lists the group after PUT removed her")
		}

		e.Do(t, "DELETE", "Users/"+bob, "").Must(t, http.StatusNoContent)
		g = e.Do(t, "GET", "Groups/"+gid, "").Must(t, 200).JSON(t)
		if _, ok := g["members"]; ok {
			t.Fatalf("deleted user still a member: %v", g["members"])
		}
		e.Do(t, "DELETE", "Groups/"+gid, "").Must(t, http.StatusNoContent)
		e.Do(t, "GET", "Groups/"+gid, "").MustError(t, http.StatusNotFound, "")
	})
}

func TestGroupBadMembers(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		missing := "0b1e2a6c-5f7e-4e53-9b3c-2d8c1f0a9e77"
		m := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"G","members":[{"value":%q}]}`, missing)).MustError(t, 400, "invalidValue")
		if !strings.Contains(m["detail"].(string), missing) {
			t.Fatalf("detail does not name the missing member: %v", m["detail"])
		}
		e.Do(t, "POST", "Groups", `{"displayName":"G","members":[{"display":"no value"}]}`).MustError(t, 400, "invalidValue")
		e.Do(t, "POST", "Groups", `{"displayName":"G","members":[{"value":"not-an-id"}]}`).MustError(t, 400, "invalidValue")
		e.Do(t, "POST", "Groups", `{"members":[]}`).MustError(t, 400, "invalidValue")
		gid := e.Do(t, "POST", "Groups", `{"displayName":"G"}`).Must(t, 201).JSON(t)["id"].(string)
		e.Do(t, "PUT", "Groups/"+gid, fmt.Sprintf(`{"displayName":"G","members":[{"value":%q}]}`, gid)).MustError(t, 400, "invalidValue")
		list := e.Do(t, "GET", "Groups", "").Must(t, 200).JSON(t)
		if fmt.Sprint(list["totalResults"]) != "1" {
			t.Fatalf("rejected creates left groups: %v", list["totalResults"])
		}
	})
}

func TestGroupsListedWithMembers(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, createUser(t, e, fmt.Sprintf(`{"userName":"u%d"}`, i))["id"].(string))
		}
		e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"All","members":[{"value":%q},{"value":%q},{"value":%q}]}`, ids[0], ids[1], ids[2])).Must(t, 201)
		list := e.Do(t, "GET", "Groups", "").Must(t, 200).JSON(t)
		g := list["Resources"].([]any)[0].(map[string]any)
		var got []string
		for id := range memberSet(t, g) {
			got = append(got, id)
		}
		sort.Strings(got)
		sort.Strings(ids)
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Fatalf("listed members %v, want %v", got, ids)
		}
	})
}
