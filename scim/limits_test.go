package scim_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// longText is n characters that do not compress (as an attacker would send).
func longText(t *testing.T, n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

func wantLimitError(t *testing.T, r *servertest.Response, attr string) {
	t.Helper()
	body := r.MustError(t, 400, "invalidValue")
	if detail := fmt.Sprint(body["detail"]); !strings.Contains(detail, attr) || !strings.Contains(detail, "at most") {
		t.Fatalf("detail %q does not name %s and its limit", detail, attr)
	}
}

// TestHardening_LongValuesAre400 sends values of a few thousand random
// characters on every write endpoint: 400 invalidValue, never 500.
func TestHardening_LongValuesAre400(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		long := longText(t, 3000)
		wantLimitError(t, e.Do(t, "POST", "Users", `{"userName":"`+long+`"}`), "userName")
		wantLimitError(t, e.Do(t, "POST", "Users", `{"userName":"x1","externalId":"`+long+`"}`), "externalId")
		wantLimitError(t, e.Do(t, "POST", "Users", `{"userName":"x2","emails":[{"value":"`+long+`@example.com"}]}`), "emails[0].value")
		wantLimitError(t, e.Do(t, "POST", "Groups", `{"displayName":"`+long+`"}`), "displayName")
		id := createUser(t, e, `{"userName":"short"}`)["id"].(string)
		wantLimitError(t, e.Do(t, "PUT", "Users/"+id, `{"userName":"`+long+`"}`), "userName")
		wantLimitError(t, e.Do(t, "PATCH", "Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"add","path":"emails","value":[{"value":"`+long+`"}]}]}`), "emails[0].value")
	})
}

// TestHardening_LongValuesBulkOfFour: one over-long user in a Bulk of four
// fails alone; the other three are stored.
func TestHardening_LongValuesBulkOfFour(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		ops := `{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"four-a"}},
			{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"` + longText(t, 3000) + `"}},
			{"method":"POST","path":"/Users","bulkId":"c","data":{"userName":"four-c"}},
			{"method":"POST","path":"/Users","bulkId":"d","data":{"userName":"four-d"}}`
		res := bulk(t, e, ops, 0)
		if got := statuses(res); got != "201,400,201,201" {
			t.Fatalf("statuses %s: %v", got, res)
		}
		if detail := fmt.Sprint(res[1]["response"]); !strings.Contains(detail, "invalidValue") || !strings.Contains(detail, "userName") {
			t.Fatalf("response %s", detail)
		}
		list := e.Do(t, "GET", "Users?count=0", "").Must(t, 200).JSON(t)
		if fmt.Sprint(list["totalResults"]) != "3" {
			t.Fatalf("stored users: %v", list["totalResults"])
		}
	})
}
