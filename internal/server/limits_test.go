package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/ratelimit"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/scim"
)

// Small, configured limits, so that "limit plus one" is cheap to send.
const (
	limBody      = 6 << 10
	limBulkOps   = 5
	limBulkBytes = 16 << 10
	limResults   = 3
	limCSVBytes  = 4 << 10
	limCSVRows   = 10
	limFilter    = 4096 // filter.MaxLength
)

// limitCase is one documented limit: the request exactly at the limit and
// the one just over it, with the answers each must get.
type limitCase struct {
	name      string
	at, over  func(t *testing.T, e *servertest.Env) *servertest.Response
	atStatus  int
	status    int
	scimType  string
	checkOver func(t *testing.T, e *servertest.Env, r *servertest.Response)
}

// TestLimitsPlusOne: every documented limit, at the limit and one over it,
// on both stores: at the limit the request succeeds; one over it gets the
// documented 4xx (400, 413, 429) with a SCIM error body, never a 5xx.
func TestLimitsPlusOne(t *testing.T) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := servertest.NewWith(t, server.Deps{Store: open(t),
				SCIM:      scim.Config{MaxBodyBytes: limBody, BulkMaxOperations: limBulkOps, BulkMaxPayload: limBulkBytes, MaxResults: limResults},
				CSV:       []csvbridge.JobsOption{csvbridge.WithJobLimits(csvbridge.Limits{MaxBytes: limCSVBytes, MaxRows: limCSVRows})},
				RateLimit: ratelimit.Config{OIDC: ratelimit.Rule{Rate: 0.001, Burst: 1}}})
			for i := range limResults + 1 {
				e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"seed%d"}`, i)).Must(t, http.StatusCreated)
			}
			for _, c := range limitCases() {
				t.Run(c.name, func(t *testing.T) {
					if r := c.at(t, e); r.Status != c.atStatus {
						t.Fatalf("at the limit: status %d, want %d: %.300s", r.Status, c.atStatus, r.Body)
					}
					r := c.over(t, e)
					r.MustError(t, c.status, c.scimType)
					if c.checkOver != nil {
						c.checkOver(t, e, r)
					}
				})
			}
		})
	}
}

func limitCases() []limitCase {
	return []limitCase{
		{name: "body size", status: http.StatusRequestEntityTooLarge, scimType: "tooLarge", atStatus: http.StatusCreated,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Users", userOfSize("atbody", limBody))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Users", userOfSize("overbody", limBody+1))
			}},
		{name: "bulk maxOperations", status: http.StatusRequestEntityTooLarge, scimType: "tooLarge", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Bulk", bulkOf("atops", limBulkOps))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Bulk", bulkOf("overops", limBulkOps+1))
			},
			checkOver: func(t *testing.T, e *servertest.Env, _ *servertest.Response) {
				mustCount(t, e, `userName sw "overops"`, 0)
			}},
		{name: "bulk maxPayloadSize", status: http.StatusRequestEntityTooLarge, scimType: "tooLarge", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Bulk", bulkOfSize("atpay", limBulkBytes))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Bulk", bulkOfSize("overpay", limBulkBytes+1))
			}},
		{name: "filter length", status: http.StatusBadRequest, scimType: "invalidFilter", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "GET", "Users?filter="+url.QueryEscape(filterOf(limFilter)), "")
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "GET", "Users?filter="+url.QueryEscape(filterOf(limFilter+1)), "")
			}},
		{name: "filter length in .search", status: http.StatusBadRequest, scimType: "invalidFilter", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Users/.search", searchOf(limFilter))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "POST", "Users/.search", searchOf(limFilter+1))
			}},
		lengthCase("userName length", "Users", "userName", directory.MaxUserNameLength, ""),
		lengthCase("externalId length", "Users", "externalId", directory.MaxExternalIDLength, `"userName":"ext%s",`),
		lengthCase("group displayName length", "Groups", "displayName", directory.MaxDisplayNameLength, ""),
		lengthCase("string length", "Users", "title", directory.MaxStringLength, `"userName":"title%s",`),
		{name: "csv upload size", status: http.StatusRequestEntityTooLarge, scimType: "tooLarge", atStatus: http.StatusAccepted,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return uploadCSV(t, e, csvOfSize(limCSVBytes))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return uploadCSV(t, e, csvOfSize(limCSVBytes+1))
			}},
		{name: "csv rows (the job is invalid; its commit 409)", status: http.StatusConflict, scimType: "", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return validatedImport(t, e, csvOfRows("atrows", limCSVRows), "validated")
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return validatedImport(t, e, csvOfRows("overrows", limCSVRows+1), "invalid")
			}},
		{name: "rate limit", status: http.StatusTooManyRequests, scimType: "", atStatus: http.StatusOK,
			at: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "GET", "Users", "", "Authorization", "Bearer "+e.IdP.Token(t, policy.KindScript, policy.Tier1Operations, "limits"))
			},
			over: func(t *testing.T, e *servertest.Env) *servertest.Response {
				return e.Do(t, "GET", "Users", "", "Authorization", "Bearer "+e.IdP.Token(t, policy.KindScript, policy.Tier1Operations, "limits"))
			},
			checkOver: func(t *testing.T, _ *servertest.Env, r *servertest.Response) {
				if r.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			}},
	}
}

// TestCountIsClamped: a list asking for more than maxResults gets
// maxResults (RFC 7644 §3.4.2.4 lets the server return fewer), not an
// error; a negative count is treated as zero.
func TestCountIsClamped(t *testing.T) {
	e := servertest.NewWith(t, server.Deps{Store: servertest.Stores()["sqlite"](t), SCIM: scim.Config{MaxResults: limResults}})
	for i := range limResults + 2 {
		e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"c%d"}`, i)).Must(t, http.StatusCreated)
	}
	for q, want := range map[string]string{"count=3": "3", "count=4": "3", "count=1000000000000": "3", "count=-5": "0"} {
		m := e.Do(t, "GET", "Users?"+q, "").Must(t, http.StatusOK).JSON(t)
		if got := fmt.Sprint(m["itemsPerPage"]); got != want {
			t.Errorf("%s: itemsPerPage %s, want %s", q, got, want)
		}
		if got := fmt.Sprint(m["totalResults"]); got != "5" {
			t.Errorf("%s: totalResults %s", q, got)
		}
	}
}

// lengthCase is a maximum string length (directory/limits.go) on one
// attribute; extra holds other members of the body, with %s for a
// suffix that keeps userNames apart.
func lengthCase(name, endpoint, attr string, limit int, extra string) limitCase {
	body := func(suffix, fill string, n int) string {
		pre := strings.ReplaceAll(extra, "%s", suffix)
		return fmt.Sprintf(`{%s%q:%q}`, pre, attr, strings.Repeat(fill, n))
	}
	return limitCase{name: name, status: http.StatusBadRequest, scimType: "invalidValue", atStatus: http.StatusCreated,
		at: func(t *testing.T, e *servertest.Env) *servertest.Response {
			return e.Do(t, "POST", endpoint, body("a", "a", limit))
		},
		over: func(t *testing.T, e *servertest.Env) *servertest.Response {
			return e.Do(t, "POST", endpoint, body("b", "b", limit+1))
		}}
}

// userOfSize is a user body of exactly size bytes, its strings within
// their own limits.
func userOfSize(prefix string, size int) string {
	head := fmt.Sprintf(`{"userName":"%s","title":"`, prefix)
	rest := size - len(head) - 2
	if rest <= 4000 {
		return head + strings.Repeat("d", rest) + `"}`
	}
	mid := `","nickName":"`
	return head + strings.Repeat("d", 4000) + mid + strings.Repeat("n", rest-4000-len(mid)) + `"}`
}

func bulkOf(prefix string, n int) string {
	ops := make([]string, n)
	for i := range ops {
		ops[i] = fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"b%d","data":{"userName":"%s%d"}}`, i, prefix, i)
	}
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

func bulkOfSize(prefix string, size int) string {
	head := fmt.Sprintf(`{"Operations":[{"method":"POST","path":"/Users","data":{"userName":"%s","title":"`, prefix)
	return head + strings.Repeat("t", size-len(head)-5) + `"}}]}`
}

// filterOf is a filter of exactly n bytes.
func filterOf(n int) string {
	head := `userName eq "`
	return head + strings.Repeat("f", n-len(head)-1) + `"`
}

func searchOf(n int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":%q}`, filterOf(n))
}

func csvOfSize(n int) string {
	head := "userName,title\nsized,"
	return head + strings.Repeat("t", n-len(head)-1) + "\n"
}

func csvOfRows(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("userName\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

func uploadCSV(t *testing.T, e *servertest.Env, body string) *servertest.Response {
	t.Helper()
	return e.Do(t, "POST", "/csv/imports?profile=scim", body, "Content-Type", "text/csv")
}

// validatedImport uploads a file, waits for its validation and returns
// the job (200) when it reached want; when it is invalid (too_many_rows),
// it returns the answer to committing it (409), so the table checks the
// refusal like any other.
func validatedImport(t *testing.T, e *servertest.Env, body, want string) *servertest.Response {
	t.Helper()
	id := uploadCSV(t, e, body).Must(t, http.StatusAccepted).JSON(t)["id"].(string)
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.Do(t, "GET", "/csv/imports/"+id, "").Must(t, http.StatusOK)
		m := r.JSON(t)
		if m["state"] == "validating" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if m["state"] != want {
			t.Fatalf("import state %v, want %s: %s", m["state"], want, r.Body)
		}
		if want == "invalid" {
			if !strings.Contains(string(r.Body), "too_many_rows") {
				t.Fatalf("invalid without too_many_rows: %s", r.Body)
			}
			// Committing an invalid file is refused with 400.
			return e.Do(t, "POST", "/csv/imports/"+id+"/commit", "")
		}
		return r
	}
}

func mustCount(t *testing.T, e *servertest.Env, filter string, want int) {
	t.Helper()
	m := e.Do(t, "GET", "Users?filter="+url.QueryEscape(filter), "").Must(t, http.StatusOK).JSON(t)
	if got := fmt.Sprint(m["totalResults"]); got != fmt.Sprint(want) {
		t.Fatalf("%s: %s users, want %d", filter, got, want)
	}
}
