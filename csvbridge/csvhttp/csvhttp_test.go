package csvhttp_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

const tiersFile = "first_name,last_name,email,tier\n" +
	"Ann,Lee,ann@example.com,support-tier-1-operations\n" +
	"Bob,Kay,bob@example,support-tier-0-help-desk\n" +
	"Cy,Ode,cy@example.com,support-tier-0-help-desk\n"

// waitState polls an import until it leaves validating and committing.
func waitState(t *testing.T, e *servertest.Env, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := e.Do(t, "GET", "/csv/imports/"+id, "").Must(t, http.StatusOK).JSON(t)
		if s := m["state"]; (s != "validating" && s != "committing") || time.Now().After(deadline) {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(m map[string]any, name string) string {
	return m["counts"].(map[string]any)[name].(json.Number).String()
}

func TestImportOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		profiles := e.Do(t, "GET", "/csv/profiles", "").Must(t, http.StatusOK).JSON(t)["profiles"].([]any)
		if len(profiles) < 2 {
			t.Fatalf("profiles: %v", profiles)
		}
		tpl := e.Do(t, "GET", "/csv/profiles/support-tiers/template.csv", "").Must(t, http.StatusOK)
		if string(tpl.Body) != "first_name,last_name,email,tier\r\n" || !strings.HasPrefix(tpl.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(tpl.Header.Get("Content-Disposition"), "support-tiers-template.csv") {
			t.Fatalf("template: %q %v", tpl.Body, tpl.Header)
		}
		e.Do(t, "GET", "/csv/profiles/nope", "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "POST", "/csv/imports", tiersFile, "Content-Type", "text/csv").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/imports?profile=scim", "", "Content-Type", "text/csv").MustError(t, http.StatusBadRequest, "invalidValue")

		r := e.Do(t, "POST", "/csv/imports?profile=support-tiers", tiersFile, "Content-Type", "text/csv").Must(t, http.StatusAccepted)
		id := r.JSON(t)["id"].(string)
		if r.Header.Get("Location") != "/csv/imports/"+id {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		job := waitState(t, e, id)
		if job["state"] != "validated" || count(job, "create") != "2" || count(job, "error") != "1" {
			t.Fatalf("preview: %v", job)
		}
		rows := e.Do(t, "GET", "/csv/imports/"+id+"/rows?status=failed", "").Must(t, http.StatusOK).JSON(t)["rows"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["row"].(json.Number).String() != "3" {
			t.Fatalf("failed rows: %v", rows)
		}
		e.Do(t, "GET", "/csv/imports/"+id+"/rows?status=bogus", "").MustError(t, http.StatusBadRequest, "invalidValue")

		e.Do(t, "POST", "/csv/imports/"+id+"/commit", "").Must(t, http.StatusAccepted)
		job = waitState(t, e, id)
		if job["state"] != "completed_with_errors" || job["summary"] != "Users loaded: 2 added, 0 updated, 0 deleted, 1 failed." {
			t.Fatalf("after commit: %v", job)
		}
		e.Do(t, "POST", "/csv/imports/"+id+"/commit", "").MustError(t, http.StatusConflict, "")
		users := e.Do(t, "GET", "Users?filter="+url.QueryEscape(`userName eq "ann@example.com"`), "").Must(t, http.StatusOK).JSON(t)
		if users["totalResults"].(json.Number).String() != "1" {
			t.Fatalf("ann not created: %v", users)
		}

		rep := e.Do(t, "GET", "/csv/imports/"+id+"/report.csv?only=failed", "").Must(t, http.StatusOK)
		recs, err := csv.NewReader(bytes.NewReader(rep.Body)).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][2] != "bob@example" || recs[1][4] != "3" {
			t.Fatalf("failed report: %v %q", err, recs)
		}
		full := e.Do(t, "GET", "/csv/imports/"+id+"/report.csv", "").Must(t, http.StatusOK)
		if recs, _ := csv.NewReader(bytes.NewReader(full.Body)).ReadAll(); len(recs) != 4 {
			t.Fatalf("full report: %q", recs)
		}

		hist := e.Do(t, "GET", "/csv/imports", "").Must(t, http.StatusOK).JSON(t)["imports"].([]any)
		if len(hist) != 1 {
			t.Fatalf("history: %v", hist)
		}
	})
}

func TestImportMultipartAndRefusals(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		body, ctype := multipartFile(t, "people.csv", "\ufefffirst_name;last_name;email;tier\r\nAnn;Lee;ann@example.com;support-tier-0-help-desk\r\n")
		r := e.Do(t, "POST", "/csv/imports?profile=support-tiers", body, "Content-Type", ctype).Must(t, http.StatusAccepted)
		job := waitState(t, e, r.JSON(t)["id"].(string))
		if job["state"] != "validated" || job["fileName"] != "people.csv" || count(job, "create") != "1" {
			t.Fatalf("multipart upload with BOM and semicolons: %v", job)
		}
		if f := job["file"].(map[string]any)["format"].(map[string]any); f["delimiter"] != ";" {
			t.Errorf("format: %v", f)
		}

		helpDesk := "Bearer " + e.NewToken(t, store.DefaultTenant, "help-desk", policy.Tier0HelpDesk)
		e.Do(t, "POST", "/csv/imports?profile=support-tiers", tiersFile, "Content-Type", "text/csv", "Authorization", helpDesk).
			MustError(t, http.StatusForbidden, "")
		e.Do(t, "GET", "/csv/imports/"+job["id"].(string), "", "Authorization", helpDesk).MustError(t, http.StatusForbidden, "")
		e.Do(t, "GET", "/csv/imports/00000000-0000-0000-0000-000000000000", "").MustError(t, http.StatusNotFound, "")
		for _, c := range []struct{ method, path string }{
			{"GET", "/csv/imports/not-an-id"}, {"GET", "/csv/imports/not-an-id/rows"}, {"GET", "/csv/imports/x'%3B--/report.csv"},
			{"POST", "/csv/imports/not-an-id/commit"}, {"POST", "/csv/imports/not-an-id/cancel"},
		} {
			e.Do(t, c.method, c.path, "").MustError(t, http.StatusNotFound, "")
		}
		e.Do(t, "GET", "/csv/imports/"+job["id"].(string)+"/rows?limit=abc", "").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/imports/"+job["id"].(string)+"/commit", "{not json").MustError(t, http.StatusBadRequest, "invalidSyntax")
		e.Do(t, "DELETE", "/csv/imports", "").MustError(t, http.StatusMethodNotAllowed, "")
		e.Do(t, "GET", "/csv/nothing", "").MustError(t, http.StatusNotFound, "")
	})
}

// TestImportSizeCap: a file over the configured cap is refused with 413
// before a job exists.
func TestImportSizeCap(t *testing.T) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			e := servertest.NewWith(t, server.Deps{Store: open(t), CSV: []csvbridge.JobsOption{csvbridge.WithJobLimits(csvbridge.Limits{MaxBytes: 1024})}})
			big := "userName\n" + strings.Repeat("someone@example.com\n", 100)
			m := e.Do(t, "POST", "/csv/imports?profile=scim", big, "Content-Type", "text/csv").MustError(t, http.StatusRequestEntityTooLarge, "tooLarge")
			if d, _ := m["detail"].(string); !strings.Contains(d, "1024 bytes") {
				t.Errorf("detail %q does not name the 1024-byte limit", d)
			}
			mp, ctype := multipartFile(t, "big.csv", big)
			m = e.Do(t, "POST", "/csv/imports?profile=scim", mp, "Content-Type", ctype).MustError(t, http.StatusRequestEntityTooLarge, "tooLarge")
			if d, _ := m["detail"].(string); !strings.Contains(d, "1024 bytes") {
				t.Errorf("multipart detail %q does not name the 1024-byte limit", d)
			}
			hist := e.Do(t, "GET", "/csv/imports", "").Must(t, http.StatusOK).JSON(t)["imports"].([]any)
			if len(hist) != 0 {
				t.Fatalf("a refused upload left a job: %v", hist)
			}
		})
	}
}

// multipartFile is a multipart form with one file field, as a browser
// sends it, and its Content-Type.
func multipartFile(t *testing.T, name, content string) (string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	return body.String(), mw.FormDataContentType()
}
