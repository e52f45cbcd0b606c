package scim_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// seedPeople creates a few users and a group and returns ids by userName.
func seedPeople(t *testing.T, e *servertest.Env) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, body := range []string{
		`{"userName":"alice","displayName":"Alice Archer","title":"Engineer","name":{"familyName":"Archer","givenName":"Alice"},
		  "emails":[{"value":"alice@work.example","type":"work","primary":true},{"value":"alice@home.example","type":"home"}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},
		  "urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-1-operations"}}`,
		`{"userName":"bob","displayName":"Bob Baker","externalId":"ext-b","name":{"familyName":"Employee"},
		  "emails":[{"value":"bob@example.org","type":"work"}],"active":false}`,
		`{"userName":"Carol_50%","externalId":"ext-c","emails":[{"value":"carol@example.com","type":"home"}],
		  "urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-3-engineering"}}`,
	} {
		u := createUser(t, e, body)
		ids[u["userName"].(string)] = u["id"].(string)
	}
	e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"Support","members":[{"value":%q}]}`, ids["alice"])).Must(t, 201)
	return ids
}

func userNames(t *testing.T, list map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range list["Resources"].([]any) {
		out = append(out, r.(map[string]any)["userName"].(string))
	}
	return out
}

func filterList(t *testing.T, e *servertest.Env, filter string, extra ...string) map[string]any {
	t.Helper()
	q := url.Values{"filter": {filter}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return e.Do(t, "GET", "Users?"+q.Encode(), "").Must(t, 200).JSON(t)
}

func TestFilters(t *testing.T) {
	cases := map[string]string{
		`userName eq "ALICE"`:                               "alice",
		`userName eq "bjensen"`:                             "",
		`externalId eq "ext-b"`:                             "bob",
		`externalId eq "EXT-B"`:                             "", // externalId is caseExact
		`emails[type eq "work"].value eq "bob@example.org"`: "bob",
		`emails[type eq "work" and value co "@work"]`:       "alice",
		`emails.value ew ".com"`:                            "Carol_50%",
		`emails co "example.org"`:                           "bob",
		`userName co "_50%"`:                                "Carol_50%",
		`userName co "l_5"`:                                 "Carol_50%",
		`userName sw "a"`:                                   "alice",
		`userName co "%"`:                                   "Carol_50%",
		`active eq false`:                                   "bob",
		`not (active eq true)`:                              "bob",
		`title pr`:                                          "alice",
		`not (title pr) and active eq true`:                 "Carol_50%",
		`displayName ne "Bob Baker" and externalId pr`:      "Carol_50%",
		`groups.display eq "support"`:                       "alice",
		`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`: "bob",
		`userName sw O`: "",
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`:                     "alice",
		`urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier eq "support-tier-3-engineering"`: "Carol_50%",
		`meta.lastModified gt "2000-01-01T00:00:00Z" and userName eq "bob"`:                                  "bob",
		`meta.Created gt 2015-10-10T14:38:21.8617979-07:00 and userName eq "bob"`:                            "bob",
		`meta.created lt "2000-01-01T00:00:00Z"`:                                                             "",
	}
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		seedPeople(t, e)
		for f, want := range cases {
			got := strings.Join(userNames(t, filterList(t, e, f)), ",")
			if got != want {
				t.Errorf("filter %s: got [%s], want [%s]", f, got, want)
			}
		}
	})
}

func TestFilterErrors(t *testing.T) {
	cases := map[string]string{
		`nickname eq`:                                     "not a valid SCIM filter",
		`favouriteColour eq "blue"`:                       "favouriteColour",
		`active eq "maybe"`:                               "boolean",
		`meta.created gt "yesterday"`:                     "dateTime",
		`name eq "x"`:                                     "complex",
		`password eq "secret"`:                            "password",
		`userName eq "unterminated`:                       "not terminated",
		`urn:example:nope:attr eq "x"`:                    "not served",
		`userName eq "` + strings.Repeat("x", 5000) + `"`: "limit is 4096",
	}
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for f, want := range cases {
			m := e.Do(t, "GET", "Users?"+url.Values{"filter": {f}}.Encode(), "").MustError(t, 400, "invalidFilter")
			if !strings.Contains(m["detail"].(string), want) {
				t.Errorf("filter %.60s: detail %q lacks %q", f, m["detail"], want)
			}
		}
		e.Do(t, "GET", "Users?sortBy=name", "").MustError(t, 400, "invalidValue")
		e.Do(t, "GET", "Users?sortBy=nope", "").MustError(t, 400, "invalidValue")
		e.Do(t, "GET", "Users?sortOrder=sideways", "").MustError(t, 400, "invalidValue")
	})
}

func TestSorting(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		seedPeople(t, e)
		check := func(sortBy, order string, want ...string) {
			t.Helper()
			l := e.Do(t, "GET", "Users?"+url.Values{"sortBy": {sortBy}, "sortOrder": {order}}.Encode(), "").Must(t, 200).JSON(t)
			if got := userNames(t, l); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("sortBy=%s %s: %v, want %v", sortBy, order, got, want)
			}
		}
		check("userName", "", "alice", "bob", "Carol_50%")
		check("userName", "descending", "Carol_50%", "bob", "alice")
		check("displayName", "ascending", "alice", "bob", "Carol_50%")  // Carol has none: last
		check("displayName", "descending", "bob", "alice", "Carol_50%") // still last
		check("emails.value", "", "alice", "bob", "Carol_50%")          // primary (alice@work) else first
		check("meta.created", "descending", "Carol_50%", "bob", "alice")
	})
}

func TestProjection(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		ids := seedPeople(t, e)
		id := ids["alice"]
		u := e.Do(t, "GET", "Users/"+id+"?attributes=userName,name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "").Must(t, 200).JSON(t)
		keys := sortedKeys(u)
		if strings.Join(keys, ",") != "emails,id,name,schemas,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,userName" {
			t.Fatalf("attributes= kept %v", keys)
		}
		if fmt.Sprint(u["name"]) != "map[givenName:Alice]" || fmt.Sprint(u["emails"]) != "[map[value:alice@work.example] map[value:alice@home.example]]" {
			t.Fatalf("sub-attribute projection: %v %v", u["name"], u["emails"])
		}
		u = e.Do(t, "GET", "Users/"+id+"?excludedAttributes=emails,meta,id,urn:scimbridge:params:scim:schemas:extension:support:2.0:User", "").Must(t, 200).JSON(t)
		if _, ok := u["emails"]; ok || u["id"] != id || u["meta"] != nil || u["urn:scimbridge:params:scim:schemas:extension:support:2.0:User"] != nil {
			t.Fatalf("excludedAttributes: %v", sortedKeys(u))
		}
		l := e.Do(t, "GET", "Users?attributes=userName&filter="+url.QueryEscape(`userName eq "bob"`), "").Must(t, 200).JSON(t)
		if got := sortedKeys(l["Resources"].([]any)[0].(map[string]any)); strings.Join(got, ",") != "id,schemas,userName" {
			t.Fatalf("list projection %v", got)
		}
		created := e.Do(t, "POST", "Users?attributes=userName", `{"userName":"dave","title":"x"}`).Must(t, 201)
		if got := sortedKeys(created.JSON(t)); strings.Join(got, ",") != "id,schemas,userName" || created.Header.Get("Location") == "" {
			t.Fatalf("POST projection %v", got)
		}
		ms := e.Do(t, "GET", "Users/"+id+"?attributes="+url.QueryEscape(`emails[type eq "work"]`), "").Must(t, 200).JSON(t)
		if strings.Join(sortedKeys(ms), ",") != "emails,id,schemas" {
			t.Fatalf("attributes with a value filter: %v", ms)
		}
		g := e.Do(t, "GET", "Groups?excludedAttributes=members", "").Must(t, 200).JSON(t)
		if _, ok := g["Resources"].([]any)[0].(map[string]any)["members"]; ok {
			t.Fatal("excludedAttributes=members still lists members")
		}
		g = e.Do(t, "GET", "Groups?attributes=members.value", "").Must(t, 200).JSON(t)
		if fmt.Sprint(g["Resources"].([]any)[0].(map[string]any)["members"]) != fmt.Sprintf("[map[value:%s]]", id) {
			t.Fatalf("members.value projection %v", g)
		}
	})
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestSearchEndpoints(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		seedPeople(t, e)
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails.type eq \"work\"",
			"sortBy":"userName","sortOrder":"descending","attributes":["userName"],"startIndex":1,"count":10}`
		l := e.Do(t, "POST", "Users/.search", body).Must(t, 200).JSON(t)
		if strings.Join(userNames(t, l), ",") != "bob,alice" {
			t.Fatalf("Users/.search: %v", l)
		}
		g := e.Do(t, "POST", "Groups/.search", `{"filter":"displayName eq \"SUPPORT\""}`).Must(t, 200).JSON(t)
		if g["totalResults"] != json.Number("1") {
			t.Fatalf("Groups/.search %v", g)
		}
		root := e.Do(t, "POST", ".search", `{"filter":"userName pr or displayName eq \"support\"","count":3}`).Must(t, 200).JSON(t)
		if root["totalResults"] != json.Number("4") || root["itemsPerPage"] != json.Number("3") {
			t.Fatalf("root .search: %v", root)
		}
		next := e.Do(t, "POST", ".search", `{"filter":"userName pr or displayName eq \"support\"","startIndex":4,"count":3}`).Must(t, 200).JSON(t)
		if r := next["Resources"].([]any); len(r) != 1 || r[0].(map[string]any)["displayName"] != "Support" {
			t.Fatalf("root .search page 2: %v", next)
		}
		users := e.Do(t, "POST", ".search", `{"filter":"userName eq \"bob\""}`).Must(t, 200).JSON(t)
		if users["totalResults"] != json.Number("1") {
			t.Fatalf("root .search with a User-only attribute: %v", users)
		}
		e.Do(t, "POST", ".search", `{"filter":"nothing eq \"x\""}`).MustError(t, 400, "invalidFilter")
		e.Do(t, "POST", "Users/.search", `{"count":"ten"}`).MustError(t, 400, "invalidSyntax")
	})
}

// TestCursorPagingSurvivesDeletes walks users in the default order with
// cursors while a user of an earlier page is deleted: every remaining
// user is still listed exactly once (an offset cursor would skip one).
func TestCursorPagingSurvivesDeletes(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		var ids []string
		for i := 0; i < 7; i++ {
			ids = append(ids, createUser(t, e, fmt.Sprintf(`{"userName":"d%d"}`, i))["id"].(string))
		}
		var seen []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			l := e.Do(t, "GET", "Users?"+url.Values{"cursor": {cursor}, "count": {"2"}}.Encode(), "").Must(t, 200).JSON(t)
			seen = append(seen, userNames(t, l)...)
			if pages == 0 {
				e.Do(t, "DELETE", "Users/"+ids[0], "").Must(t, 204)
			}
			next, ok := l["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		if strings.Join(seen, ",") != "d0,d1,d2,d3,d4,d5,d6" {
			t.Fatalf("cursor pages with a delete: %v", seen)
		}
		for i := 0; i < 5; i++ {
			e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"g%d"}`, i)).Must(t, 201)
		}
		var groups []string
		cursor = ""
		for pages := 0; pages < 10; pages++ {
			l := e.Do(t, "GET", "Groups?"+url.Values{"cursor": {cursor}, "count": {"2"}}.Encode(), "").Must(t, 200).JSON(t)
			for _, r := range l["Resources"].([]any) {
				groups = append(groups, r.(map[string]any)["displayName"].(string))
			}
			next, ok := l["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		if strings.Join(groups, ",") != "g0,g1,g2,g3,g4" {
			t.Fatalf("group cursor pages: %v", groups)
		}
	})
}

func TestCursorPaging(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		for i := 0; i < 7; i++ {
			createUser(t, e, fmt.Sprintf(`{"userName":"c%d"}`, i))
		}
		var seen []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			l := e.Do(t, "GET", "Users?"+url.Values{"cursor": {cursor}, "count": {"3"}, "sortBy": {"userName"}}.Encode(), "").Must(t, 200).JSON(t)
			if _, ok := l["startIndex"]; ok {
				t.Fatal("cursor page has startIndex")
			}
			seen = append(seen, userNames(t, l)...)
			next, ok := l["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		if strings.Join(seen, ",") != "c0,c1,c2,c3,c4,c5,c6" {
			t.Fatalf("cursor pages: %v", seen)
		}
		l := e.Do(t, "GET", "Users?cursor=&count=3&sortBy=userName", "").Must(t, 200).JSON(t)
		good := l["nextCursor"].(string)
		e.Do(t, "GET", "Users?count=3&sortBy=userName&cursor="+url.QueryEscape(good[:len(good)-2]+"AA"), "").MustError(t, 400, "invalidCursor")
		e.Do(t, "GET", "Users?count=3&sortBy=displayName&cursor="+url.QueryEscape(good), "").MustError(t, 400, "invalidCursor")
		e.Do(t, "GET", "Users?count=3&cursor=garbage", "").MustError(t, 400, "invalidCursor")
		e.Do(t, "GET", "Users?count=3&startIndex=2&cursor=", "").MustError(t, 400, "invalidValue")
		if err := e.Store.CreateTenant(t.Context(), "acme", nowUTC()); err != nil {
			t.Fatal(err)
		}
		tok := "Bearer " + e.NewToken(t, "acme", "x", policy.Tier1Operations)
		e.Do(t, "GET", "Users?count=3&sortBy=userName&cursor="+url.QueryEscape(good), "", "Authorization", tok).MustError(t, 400, "invalidCursor")
	})
}
