package scim_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

const bulkSchema = `"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]`

// TestHardening_UnicodeCaseFoldingOneRule checks the folding rule and the
// refusal of invalid UTF-8 on the wire.
func TestHardening_UnicodeCaseFoldingOneRule(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		sam := createUser(t, e, `{"userName":"ſam"}`)["id"].(string)
		e.Do(t, "POST", "Users", `{"userName":"sam"}`).MustError(t, http.StatusConflict, "uniqueness")
		createUser(t, e, `{"userName":"ΣΟΦΟΣ"}`)
		e.Do(t, "POST", "Users", `{"userName":"σοφος"}`).MustError(t, http.StatusConflict, "uniqueness")
		createUser(t, e, `{"userName":"İYİ"}`)
		createUser(t, e, `{"userName":"iyi"}`) // İ has no simple case folding: a different name
		list := getJSON(t, e, "Users?filter="+urlq(`userName eq "SAM"`))
		res, _ := list["Resources"].([]any)
		if len(res) != 1 || res[0].(map[string]any)["id"] != sam {
			t.Fatalf(`userName eq "SAM" found %v, want ſam`, list)
		}
		if n := getJSON(t, e, "Users?filter="+urlq(`userName sw "Σο"`))["totalResults"]; fmt.Sprint(n) != "1" {
			t.Fatalf(`userName sw "Σο": %v results`, n)
		}
		for name, body := range map[string]string{
			"invalid byte":   "{\"userName\":\"bad\xffname\"}",
			"truncated rune": "{\"userName\":\"bad\xc3\"}",
			"lone surrogate": `{"userName":"bad\ud800name"}`,
			"low surrogate":  `{"userName":"bad\udc00"}`,
		} {
			t.Run(name, func(t *testing.T) {
				e.Do(t, "POST", "Users", body).MustError(t, http.StatusBadRequest, "invalidSyntax")
				e.Do(t, "PUT", "Users/"+sam, body).MustError(t, http.StatusBadRequest, "invalidSyntax")
				bulk := `{` + bulkSchema + `,"Operations":[{"method":"POST","path":"/Users","bulkId":"b","data":` + body + `}]}`
				e.Do(t, "POST", "Bulk", bulk).MustError(t, http.StatusBadRequest, "invalidSyntax")
			})
		}
		// A surrogate pair is a character, and an escaped backslash before
		// "u" is no escape.
		createUser(t, e, `{"userName":"emoji\ud83d\ude00","displayName":"a\\ud800"}`)
		if n := getJSON(t, e, "Users?filter="+urlq(`userName co "bad"`))["totalResults"]; fmt.Sprint(n) != "0" {
			t.Fatalf("a body with invalid UTF-8 was stored: %v", n)
		}
	})
}

// TestHardening_TwoPrimaryValues: POST and PUT keep one primary value and
// drop exact duplicates, as PATCH does.
func TestHardening_TwoPrimaryValues(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		u := createUser(t, e, `{"userName":"prim","emails":[{"value":"a@x.com","type":"work","primary":true},
			{"value":"b@x.com","type":"home","primary":true},{"value":"b@x.com","type":"home","primary":true}]}`)
		id := u["id"].(string)
		wantPrimary(t, getJSON(t, e, "Users/"+id), "b@x.com", 2)
		put := e.Do(t, "PUT", "Users/"+id, `{"userName":"prim","emails":[{"value":"c@x.com","primary":true},
			{"value":"d@x.com","primary":true},{"value":"d@x.com","primary":true}]}`).Must(t, 200).JSON(t)
		wantPrimary(t, put, "d@x.com", 2)
		patched := e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"add","path":"emails","value":[{"value":"e@x.com","primary":true}]}`)).Must(t, 200).JSON(t)
		wantPrimary(t, patched, "e@x.com", 3)
	})
}

func wantPrimary(t *testing.T, u map[string]any, want string, n int) {
	t.Helper()
	emails, _ := u["emails"].([]any)
	var primaries []any
	for _, el := range emails {
		if m := el.(map[string]any); m["primary"] == true {
			primaries = append(primaries, m["value"])
		}
	}
	if len(emails) != n || len(primaries) != 1 || primaries[0] != want {
		t.Fatalf("emails %v: want %d values, only %s primary", emails, n, want)
	}
}

// TestHardening_NoOpPatchKeepsVersion: a PATCH or PUT sending the current
// values keeps the ETag and lastModified; removing active is a 400.
func TestHardening_NoOpPatchKeepsVersion(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		u := createUser(t, e, `{"userName":"noop","displayName":"No Op","title":"T"}`)
		id := u["id"].(string)
		modified := u["meta"].(map[string]any)["lastModified"]
		for _, ops := range []string{
			`{"op":"replace","path":"displayName","value":"No Op"}`,
			`{"op":"add","value":{"title":"T","active":true}}`,
			`{"op":"remove","path":"nickName"}`,
		} {
			r := e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, 200)
			if r.Header.Get("ETag") != `W/"1"` || r.JSON(t)["meta"].(map[string]any)["lastModified"] != modified {
				t.Fatalf("no-op PATCH %s: ETag %s, meta %v", ops, r.Header.Get("ETag"), r.JSON(t)["meta"])
			}
		}
		r := e.Do(t, "PUT", "Users/"+id, `{"userName":"noop","displayName":"No Op","title":"T"}`).Must(t, 200)
		if r.Header.Get("ETag") != `W/"1"` {
			t.Fatalf("identical PUT: ETag %s", r.Header.Get("ETag"))
		}
		m := e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"remove","path":"active"}`)).MustError(t, http.StatusBadRequest, "invalidValue")
		t.Logf("remove active: %v", m["detail"])
		e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"replace","path":"active","value":false}`)).Must(t, 200)
		if got := getJSON(t, e, "Users/"+id); got["active"] != false || got["meta"].(map[string]any)["version"] != `W/"2"` {
			t.Fatalf("after a real change: %v", got)
		}
	})
}

// TestHardening_PatchExtensionPathWithSchemas: an extension object with
// its own "schemas" member is accepted on PATCH as on PUT; a valid path
// with a bad value is invalidValue.
func TestHardening_PatchExtensionPathWithSchemas(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		id := createUser(t, e, `{"userName":"ext"}`)["id"].(string)
		ops := fmt.Sprintf(`{"op":"add","path":%q,"value":{"schemas":[%q],"employeeNumber":"42"}}`, enterpriseURN, enterpriseURN)
		r := e.Do(t, "PATCH", "Users/"+id, patchBody(ops)).Must(t, 200).JSON(t)
		if r[enterpriseURN].(map[string]any)["employeeNumber"] != "42" {
			t.Fatalf("extension not applied: %v", r)
		}
		for _, bad := range []string{
			fmt.Sprintf(`{"op":"add","path":%q,"value":{"bogus":"x"}}`, enterpriseURN),
			fmt.Sprintf(`{"op":"replace","path":%q,"value":{"employeeNumber":7}}`, enterpriseURN),
			`{"op":"add","value":{"bogus":"x"}}`,
			`{"op":"replace","path":"active","value":"maybe"}`,
		} {
			e.Do(t, "PATCH", "Users/"+id, patchBody(bad)).MustError(t, http.StatusBadRequest, "invalidValue")
		}
		e.Do(t, "PATCH", "Users/"+id, patchBody(`{"op":"add","path":"bogus","value":"x"}`)).MustError(t, http.StatusBadRequest, "invalidPath")
	})
}
