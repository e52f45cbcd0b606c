package scim_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

func bulk(t *testing.T, e *servertest.Env, ops string, failOnErrors int) []map[string]any {
	t.Helper()
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":%d,"Operations":[%s]}`, failOnErrors, ops)
	resp := e.Do(t, "POST", "Bulk", body).Must(t, 200).JSON(t)
	var out []map[string]any
	for _, op := range resp["Operations"].([]any) {
		out = append(out, op.(map[string]any))
	}
	return out
}

func statuses(ops []map[string]any) string {
	var s []string
	for _, op := range ops {
		s = append(s, fmt.Sprint(op["status"]))
	}
	return strings.Join(s, ",")
}

func idFromLocation(op map[string]any) string {
	loc := op["location"].(string)
	return loc[strings.LastIndex(loc, "/")+1:]
}

func TestBulkReferencesEverywhere(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		ops := `{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"Team","members":[{"value":"bulkId:alice"},{"value":"bulkId:bob"}]}},
			{"method":"POST","path":"/Users","bulkId":"alice","data":{"userName":"alice"}},
			{"method":"POST","path":"/Users","bulkId":"bob","data":{"userName":"bob","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"bulkId:alice"}}}},
			{"method":"PATCH","path":"/Users/bulkId:alice","data":{"Operations":[{"op":"replace","path":"title","value":"Lead"}]}},
			{"method":"PATCH","path":"/Groups/bulkId:g","data":{"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:carol"}]}]}},
			{"method":"POST","path":"/Users","bulkId":"carol","data":{"userName":"carol"}},
			{"method":"PUT","path":"/Users/bulkId:carol","version":"W/\"1\"","data":{"userName":"carol","displayName":"Carol C"}},
			{"method":"DELETE","path":"/Users/bulkId:carol","version":"W/\"2\""}`
		res := bulk(t, e, ops, 0)
		if got := statuses(res); got != "201,201,201,200,200,201,200,204" {
			t.Fatalf("statuses %s: %v", got, res)
		}
		alice, bob, g := idFromLocation(res[1]), idFromLocation(res[2]), idFromLocation(res[0])
		if res[0]["bulkId"] != "g" || res[0]["method"] != "POST" || res[0]["version"] != `W/"1"` {
			t.Fatalf("response shape %v", res[0])
		}
		members := memberSet(t, getJSON(t, e, "Groups/"+g))
		if len(members) != 2 || members[alice] == nil || members[bob] == nil {
			t.Fatalf("group members %v", members)
		}
		b := getJSON(t, e, "Users/"+bob)
		if fmt.Sprint(b[enterpriseURN]) != fmt.Sprintf("map[manager:map[value:%s]]", alice) {
			t.Fatalf("manager reference %v", b[enterpriseURN])
		}
		if getJSON(t, e, "Users/"+alice)["title"] != "Lead" {
			t.Fatal("PATCH by bulkId path did not apply")
		}
		e.Do(t, "GET", "Users/"+idFromLocation(res[5]), "").MustError(t, 404, "")
	})
}

func TestBulkCircularReferences(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		ops := `{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"X","manager":{"value":"bulkId:b"}}}},
			{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"b","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"bulkId:a"}}}}`
		res := bulk(t, e, ops, 0)
		if statuses(res) != "201,201" {
			t.Fatalf("%v", res)
		}
		a, b := idFromLocation(res[0]), idFromLocation(res[1])
		if fmt.Sprint(getJSON(t, e, "Users/"+a)[enterpriseURN]) != fmt.Sprintf("map[department:X manager:map[value:%s]]", b) {
			t.Fatalf("a's manager not linked: %v", getJSON(t, e, "Users/"+a)[enterpriseURN])
		}
		if fmt.Sprint(getJSON(t, e, "Users/"+b)[enterpriseURN]) != fmt.Sprintf("map[manager:map[value:%s]]", a) {
			t.Fatal("b's manager not linked")
		}
	})
}

func TestBulkFailuresStayPerOperation(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createUser(t, e, `{"userName":"taken"}`)
		ops := `{"method":"POST","path":"/Users","bulkId":"ok1","data":{"userName":"ok1"}},
			{"method":"POST","path":"/Users","bulkId":"dup","data":{"userName":"TAKEN"}},
			{"method":"POST","path":"/Users","bulkId":"ok2","data":{"userName":"ok2"}},
			{"method":"POST","path":"/Users","bulkId":"bad","data":{"userName":42}},
			{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"G","members":[{"value":"bulkId:nowhere"}]}},
			{"method":"POST","path":"/Groups","bulkId":"g2","data":{"displayName":"G2","members":[{"value":"bulkId:dup"}]}},
			{"method":"POST","path":"/Users","data":{"userName":"no-bulkid"}},
			{"method":"FETCH","path":"/Users/x"},
			{"method":"PUT","path":"/Widgets/1","data":{}},
			{"method":"PATCH","path":"/Users/bulkId:ok1","version":"W/\"7\"","data":{"Operations":[{"op":"replace","path":"title","value":"x"}]}}`
		res := bulk(t, e, ops, 0)
		if got := statuses(res); got != "201,409,201,400,400,409,400,400,400,412" {
			t.Fatalf("statuses %s", got)
		}
		for _, i := range []int{1, 3, 4, 5, 9} {
			r := res[i]["response"].(map[string]any)
			if r["status"] != res[i]["status"] || r["detail"] == "" {
				t.Fatalf("error response %d: %v", i, r)
			}
		}
		if !strings.Contains(fmt.Sprint(res[4]["response"]), "nowhere") {
			t.Fatalf("unknown bulkId not named: %v", res[4])
		}
		list := e.Do(t, "GET", "Users", "").JSON(t)
		if list["totalResults"] != json.Number("3") {
			t.Fatalf("users after bulk: %v", list["totalResults"])
		}
	})
}

func TestBulkFailOnErrors(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		ops := `{"method":"POST","path":"/Users","bulkId":"1","data":{"userName":"x1"}},
			{"method":"POST","path":"/Users","bulkId":"2","data":{}},
			{"method":"POST","path":"/Users","bulkId":"3","data":{"userName":"x1"}},
			{"method":"POST","path":"/Users","bulkId":"4","data":{"userName":"x4"}}`
		if got := statuses(bulk(t, e, ops, 2)); got != "201,400,409" {
			t.Fatalf("failOnErrors 2: %s", got)
		}
		e.Do(t, "GET", "Users?filter="+urlq(`userName eq "x4"`), "").Must(t, 200)
		if l := e.Do(t, "GET", "Users?filter="+urlq(`userName eq "x4"`), "").JSON(t); l["totalResults"] != json.Number("0") {
			t.Fatal("an operation after failOnErrors was attempted")
		}
	})
}

func TestBulkLimits(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		var ops []string
		for i := 0; i < 1001; i++ {
			ops = append(ops, fmt.Sprintf(`{"method":"DELETE","path":"/Users/%d"}`, i))
		}
		m := e.Do(t, "POST", "Bulk", `{"Operations":[`+strings.Join(ops, ",")+`]}`).MustError(t, 413, "tooLarge")
		if !strings.Contains(m["detail"].(string), "maxOperations is 1000") {
			t.Fatalf("detail %v", m["detail"])
		}
		big := fmt.Sprintf(`{"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"x","title":%q}}]}`, strings.Repeat("t", 1<<20))
		m = e.Do(t, "POST", "Bulk", big).MustError(t, 413, "tooLarge")
		if !strings.Contains(m["detail"].(string), "maxPayloadSize") {
			t.Fatalf("detail %v", m["detail"])
		}
		e.Do(t, "POST", "Bulk", `{"Operations":[]}`).MustError(t, 400, "invalidSyntax")
		e.Do(t, "POST", "Bulk", `{"Operations":`).MustError(t, 400, "invalidSyntax")
		spc := getJSON(t, e, "ServiceProviderConfig")["bulk"].(map[string]any)
		if spc["supported"] != true || spc["maxOperations"] != json.Number("1000") || spc["maxPayloadSize"] != json.Number("1048576") {
			t.Fatalf("spc bulk %v", spc)
		}
	})
}

func TestBulkManyCreatesInOneRequest(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		var ops []string
		for i := 0; i < 300; i++ {
			ops = append(ops, fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"u%d","data":{"userName":"bulk%d","emails":[{"value":"b%d@x.test","type":"work"}]}}`, i, i, i%299))
		}
		res := bulk(t, e, strings.Join(ops, ","), 0)
		if len(res) != 300 || strings.Count(statuses(res), "201") != 300 {
			t.Fatalf("statuses %s", statuses(res))
		}
		l := e.Do(t, "GET", "Users?count=0&filter="+urlq(`emails.value eq "b7@x.test"`), "").Must(t, 200).JSON(t)
		if l["totalResults"] != json.Number("1") {
			t.Fatalf("email rows of batched users: %v", l)
		}
	})
}
