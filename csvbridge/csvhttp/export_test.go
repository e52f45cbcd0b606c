package csvhttp_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

const exportUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:scimbridge:params:scim:schemas:extension:support:2.0:User"],
 "userName":%q,"name":{"givenName":"=SUM(A1)","familyName":"Lee, \"the\" one"},"active":%s,"roles":[{"value":"a|b"},{"value":"c"}],
 "emails":[{"type":"work","value":%q,"primary":true}],"password":"Secret-Pass-123",
 "urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-1-operations"}}`

func createExportUser(t *testing.T, e *servertest.Env, userName string, active bool) {
	t.Helper()
	act := "false"
	if active {
		act = "true"
	}
	body := strings.Replace(strings.Replace(strings.Replace(exportUser, "%q", `"`+userName+`"`, 1), "%s", act, 1), "%q", `"`+userName+`"`, 1)
	e.Do(t, "POST", "Users", body).Must(t, http.StatusCreated)
}

func readCSV(t *testing.T, body []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	return recs
}

func column(t *testing.T, recs [][]string, header string) []string {
	t.Helper()
	i := slices.Index(recs[0], header)
	if i < 0 {
		t.Fatalf("no column %q in %q", header, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestExportUsersOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createExportUser(t, e, "ann@example.com", true)
		createExportUser(t, e, "bob@example.com", false)

		r := e.Do(t, "GET", "/csv/exports/users.csv", "").Must(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename=users-scim-`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if !bytes.HasPrefix(r.Body, []byte("\ufeffid,userName,")) || !bytes.Contains(r.Body, []byte("\r\n")) {
			t.Fatalf("no BOM or CRLF: %q", r.Body[:min(80, len(r.Body))])
		}
		recs := readCSV(t, r.Body, ',')
		if len(recs) != 3 || bytes.Contains(r.Body, []byte("Secret-Pass")) || slices.Contains(recs[0], "password") {
			t.Fatalf("export: %q", recs)
		}
		if got := column(t, recs, "name.givenName"); got[0] != "'=SUM(A1)" {
			t.Errorf("formula not escaped: %q", got)
		}
		if got := column(t, recs, "roles.value"); got[0] != `a\|b|c` {
			t.Errorf("multi-valued cell %q", got)
		}
		if got := column(t, recs, "name.familyName"); got[0] != `Lee, "the" one` {
			t.Errorf("quoted cell %q", got)
		}

		active := e.Do(t, "GET", "/csv/exports/users.csv?preset=active&bom=false&crlf=false&delimiter=%3B&attributes=userName,active", "").Must(t, http.StatusOK)
		if bytes.HasPrefix(active.Body, []byte("\ufeff")) || bytes.Contains(active.Body, []byte("\r")) {
			t.Fatalf("bom=false crlf=false: %q", active.Body)
		}
		if got := readCSV(t, active.Body, ';'); !slices.Equal(got[0], []string{"userName", "active"}) || len(got) != 2 || got[1][0] != "ann@example.com" {
			t.Fatalf("active preset: %q", got)
		}
		filtered := e.Do(t, "GET", "/csv/exports/users.csv?profile=support-tiers&filter="+url.QueryEscape(`userName eq "bob@example.com"`), "").Must(t, http.StatusOK)
		if got := readCSV(t, filtered.Body, ','); len(got) != 2 || !slices.Equal(got[1], []string{"'=SUM(A1)", `Lee, "the" one`, "bob@example.com", "support-tier-1-operations"}) {
			t.Fatalf("support-tiers export: %q", got)
		}
		sorted := readCSV(t, e.Do(t, "GET", "/csv/exports/users.csv?sortBy=userName&sortOrder=descending&attributes=userName", "").Must(t, http.StatusOK).Body, ',')
		if !slices.Equal(column(t, sorted, "userName"), []string{"bob@example.com", "ann@example.com"}) {
			t.Fatalf("sorted: %q", sorted)
		}
		raw := e.Do(t, "GET", "/csv/exports/users.csv?raw=true&attributes=name.givenName", "").Must(t, http.StatusOK)
		if got := column(t, readCSV(t, raw.Body, ','), "name.givenName"); got[0] != "=SUM(A1)" {
			t.Errorf("raw: %q", got)
		}

		e.Do(t, "GET", "/csv/exports/users.csv?filter="+url.QueryEscape("userName eq"), "").MustError(t, http.StatusBadRequest, "invalidFilter")
		e.Do(t, "GET", "/csv/exports/users.csv?preset=tier=9", "").MustError(t, http.StatusBadRequest, "invalidFilter")
		e.Do(t, "GET", "/csv/exports/users.csv?profile=nope", "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "GET", "/csv/exports/users.csv?attributes=nosuch", "").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "GET", "/csv/exports/users.csv?delimiter=%22", "").MustError(t, http.StatusBadRequest, "invalidValue")

		helpDesk := "Bearer " + e.NewToken(t, store.DefaultTenant, "help-desk", policy.Tier0HelpDesk)
		e.Do(t, "GET", "/csv/exports/users.csv", "", "Authorization", helpDesk).Must(t, http.StatusOK)
		e.Do(t, "GET", "/csv/exports/users.csv?raw=true", "", "Authorization", helpDesk).MustError(t, http.StatusForbidden, "")

		evs, err := e.Store.AuditEvents(context.Background(), store.DefaultTenant, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var exports []store.AuditEvent
		for _, ev := range evs {
			if ev.Action == "export" {
				exports = append(exports, ev)
			}
		}
		// Newest first: the help desk's refused raw export is not audited
		// (it never ran), its full export is.
		last := exports[0]
		if len(exports) != 6 || last.Source != "csv" || last.ActorTier != policy.Tier0HelpDesk.String() || last.ResourceType != "User" ||
			!slices.Contains(last.Attributes, "rows=2") || !slices.Contains(last.Attributes, "userName") || !slices.Contains(last.Attributes, "filter=") {
			t.Fatalf("audit of the exports: %+v", exports)
		}
		if a := exports[len(exports)-2].Attributes; !slices.Contains(a, "rows=1") || !slices.Contains(a, "filter=(active eq true)") {
			t.Fatalf("audit of the active export: %q", a)
		}
	})
}

func TestExportGroupsOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createExportUser(t, e, "ann@example.com", true)
		id := e.Do(t, "GET", "Users?filter="+url.QueryEscape(`userName eq "ann@example.com"`), "").Must(t, http.StatusOK).JSON(t)["Resources"].([]any)[0].(map[string]any)["id"].(string)
		e.Do(t, "POST", "Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"+Ops","members":[{"value":"`+id+`"}]}`).Must(t, http.StatusCreated)
		r := e.Do(t, "GET", "/csv/exports/groups.csv", "").Must(t, http.StatusOK)
		recs := readCSV(t, r.Body, ',')
		if len(recs) != 2 || recs[1][1] != "'+Ops" || column(t, recs, "members.value")[0] != id {
			t.Fatalf("groups export: %q", recs)
		}
		e.Do(t, "GET", "/csv/exports/groups.csv?preset=active", "").MustError(t, http.StatusBadRequest, "invalidFilter")
	})
}
