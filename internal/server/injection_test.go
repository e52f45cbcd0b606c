package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// injectionStrings are hostile values: SQL metacharacters and comments,
// LIKE wildcards and escapes, Unicode confusables and controls, NUL, and
// values that break naive number or JSON handling.
var injectionStrings = []string{
	`' OR '1'='1`, `'; DROP TABLE users; --`, `" OR ""="`, `\' OR 1=1 --`, `1); DELETE FROM users WHERE (1=1`,
	`%`, `_`, `%%`, `a%b_c`, `\`, `\%`, `\\_`, `[`, `*`, `.*`, `$1`, `?`, `:name`,
	"\u0455am", "\uff21\uff24\uff2d\uff29\uff2e", "\u0130yi", "\u017fam", "\u202eevil", "a\u200bb", "caf\u0065\u0301",
	"nul\x00byte", "\x00", "\x1b[31m", "line\nbreak",
	"1e999999", "-0", "123456789012345678901234567890", "NaN", "Infinity",
	`{"$ne":null}`, `*)(uid=*))(|(uid=*`, "<script>alert(1)</script>", "../../etc/passwd",
}

// sqlLeaks are fragments of database text that must never reach a client.
var sqlLeaks = regexp.MustCompile(`(?i)\bselect\b.*\bfrom\b|\bwhere\b.*=|sqlstate|syntax error|pq:|pgx|sqlite|near "|unterminated|relation "|column "|\bjsonb\b`)

// withoutEchoes removes the hostile strings themselves (as sent, and
// JSON-escaped) from an answer: an error may quote the client's input.
func withoutEchoes(body string) string {
	for _, s := range injectionStrings {
		if len(s) < 3 {
			continue
		}
		lit, _ := json.Marshal(s)
		body = strings.ReplaceAll(body, string(lit[1:len(lit)-1]), "")
		body = strings.ReplaceAll(body, s, "")
	}
	return body
}

var filterAttrs = []string{"userName", "displayName", "externalId", "emails.value", "name.givenName", "title",
	"urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier", "meta.created", "active", "id"}

var filterOps = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}

// injectionEnv is a server with the default tenant's users, LIKE-special
// names among them, and another tenant's user whose name must never be
// seen from the default tenant.
func injectionEnv(t *testing.T, e *servertest.Env) string {
	t.Helper()
	for _, name := range []string{"plain", "pct%user", "under_score", `back\slash`} {
		e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":%q,"title":"t"}`, name)).Must(t, http.StatusCreated)
	}
	if err := e.Store.CreateTenant(t.Context(), "tenant-b", time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	other := e.NewToken(t, "tenant-b", "b-admin", policy.Tier3Engineering)
	e.Do(t, "POST", "Users", `{"userName":"tenantb-secret-user","title":"t"}`, "Authorization", "Bearer "+other).Must(t, http.StatusCreated)
	return other
}

// checkHostile fails on a 5xx, on database text in the body and on the
// other tenant's user in the body.
func checkHostile(t *testing.T, what string, r *servertest.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s: status %d: %.300s", what, r.Status, r.Body)
	}
	if r.Status >= 400 {
		if m := sqlLeaks.FindString(withoutEchoes(string(r.Body))); m != "" {
			t.Fatalf("%s: database text %q in the answer: %.300s", what, m, r.Body)
		}
	}
	if strings.Contains(string(r.Body), "tenantb-secret") {
		t.Fatalf("%s: another tenant's user in the answer: %.300s", what, r.Body)
	}
}

// TestInjection_FilterOperators: every hostile string through every
// filter operator on every kind of attribute, on both stores, as a GET
// filter and in a .search body: only 200 or 400, no database text, no
// other tenant's rows; LIKE wildcards match literally.
func TestInjection_FilterOperators(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		injectionEnv(t, e)
		for _, s := range injectionStrings {
			lit, _ := json.Marshal(s)
			for _, attr := range filterAttrs {
				for _, op := range filterOps {
					f := fmt.Sprintf("%s %s %s", attr, op, lit)
					checkHostile(t, f, e.Do(t, "GET", "Users?filter="+url.QueryEscape(f), ""))
				}
			}
			body, _ := json.Marshal(map[string]any{"filter": fmt.Sprintf("userName co %s or displayName pr", lit)})
			checkHostile(t, ".search "+s, e.Do(t, "POST", ".search", string(body)))
		}
		for _, raw := range []string{`userName eq 1e999999`, `active eq 123456789012345678901234567890`, `meta.created gt -1e400`,
			`userName eq "a" or ` + strings.Repeat(`(`, 500) + `userName pr` + strings.Repeat(`)`, 500), `userName eq "\u0000"`,
			`emails[value co "%"]`, `emails[type eq "work" and value sw "_"].value eq "x"`, `userName eq "` + strings.Repeat("x", 4000) + `"`} {
			checkHostile(t, raw, e.Do(t, "GET", "Users?filter="+url.QueryEscape(raw), ""))
		}
		for filter, want := range map[string]string{`userName co "%"`: "1", `userName co "_"`: "1", `userName sw "%"`: "0",
			`userName ew "_"`: "0", `userName co "\\"`: "1", `userName eq "tenantb-secret-user"`: "0"} {
			r := e.Do(t, "GET", "Users?filter="+url.QueryEscape(filter), "").Must(t, http.StatusOK)
			if got := fmt.Sprint(r.JSON(t)["totalResults"]); got != want {
				t.Errorf("%s: %s results, want %s (LIKE wildcards and tenants must not leak)", filter, got, want)
			}
		}
	})
}

// TestInjection_Endpoints: hostile strings as userNames, ids, PATCH paths
// and values, group names, Bulk operations and CSV cells; a deeply nested
// body and a 10 MB string: only 2xx or 4xx, no database text, no other
// tenant's rows, on both stores.
func TestInjection_Endpoints(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		injectionEnv(t, e)
		for i, s := range injectionStrings {
			lit, _ := json.Marshal(s)
			checkHostile(t, "POST user "+s, e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":%s,"displayName":%s,"externalId":%s}`, lit, lit, lit)))
			checkHostile(t, "POST user title "+s, e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"inj%d","title":%s}`, i, lit)))
			checkHostile(t, "GET id "+s, e.Do(t, "GET", "Users/"+url.PathEscape(s), ""))
			checkHostile(t, "DELETE id "+s, e.Do(t, "DELETE", "Groups/"+url.PathEscape(s), ""))
			checkHostile(t, "PATCH path "+s, e.Do(t, "PATCH", "Users/"+url.PathEscape(s), fmt.Sprintf(
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":%s,"value":%s}]}`, lit, lit)))
			checkHostile(t, "POST group "+s, e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":%s,"members":[{"value":%s}]}`, lit, lit)))
			checkHostile(t, "Bulk "+s, e.Do(t, "POST", "Bulk", fmt.Sprintf(
				`{"Operations":[{"method":"POST","path":"/Users","bulkId":%s,"data":{"userName":%s}},{"method":"PATCH","path":"/Users/bulkId:%s","data":{"Operations":[{"op":"add","path":%s,"value":1}]}}]}`,
				lit, lit, lit[1:len(lit)-1], lit)))
			checkHostile(t, "sortBy "+s, e.Do(t, "GET", "Users?sortBy="+url.QueryEscape(s)+"&attributes="+url.QueryEscape(s)+"&startIndex="+url.QueryEscape(s), ""))
			checkHostile(t, "CSV "+s, e.Do(t, "POST", "/csv/imports?profile=scim", "userName,title\n"+csvCell(s)+","+csvCell(s)+"\n", "Content-Type", "text/csv"))
			checkHostile(t, "CSV export "+s, e.Do(t, "GET", "/csv/exports/users.csv?filter="+url.QueryEscape("userName co "+string(lit)), ""))
			checkHostile(t, "audit "+s, e.Do(t, "GET", "/audit/events?resourceId="+url.QueryEscape(s)+"&since="+url.QueryEscape(s), ""))
		}
		nested := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
		checkHostile(t, "nested", e.Do(t, "POST", "Users", `{"userName":"n","x":`+nested+`}`))
		deepArray := strings.Repeat("[", 50000) + strings.Repeat("]", 50000)
		checkHostile(t, "nested array", e.Do(t, "POST", "Bulk", `{"Operations":`+deepArray+`}`))
		huge := strings.Repeat("x", 10<<20)
		r := e.Do(t, "POST", "Users", `{"userName":"`+huge+`"}`)
		checkHostile(t, "10 MB", r)
		r.MustError(t, http.StatusRequestEntityTooLarge, "tooLarge")
		checkHostile(t, "10 MB filter", e.Do(t, "POST", ".search", `{"filter":"userName eq \"`+huge[:1<<19]+`\""}`))
		checkHostile(t, "10 MB CSV cell", e.Do(t, "POST", "/csv/imports?profile=scim", "userName\n"+huge+"\n", "Content-Type", "text/csv"))
		e.Do(t, "GET", "/readyz", "").Must(t, http.StatusOK)
	})
}

func csvCell(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
