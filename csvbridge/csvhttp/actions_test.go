package csvhttp_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// waitJob polls a job at path until it leaves the busy states.
func waitJob(t *testing.T, e *servertest.Env, path string, busy ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := e.Do(t, "GET", path, "").Must(t, http.StatusOK).JSON(t)
		s, _ := m["state"].(string)
		if !strings.Contains(strings.Join(busy, " "), s) || time.Now().After(deadline) {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestActionsOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createExportUser(t, e, "ann@example.com", true)
		createExportUser(t, e, "bob@example.com", true)
		ops := e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
		desk := e.NewToken(t, store.DefaultTenant, "desk", policy.Tier0HelpDesk)

		body := `{"filter":"userName eq \"ann@example.com\"","operation":"add-role","value":"Coordinator"}`
		e.Do(t, "POST", "/csv/actions", body, auth(desk)...).MustError(t, http.StatusForbidden, "")
		e.Do(t, "POST", "/csv/actions", `{"preset":"all","operation":"add-group","value":"x"}`, auth(ops)...).MustError(t, http.StatusForbidden, "")
		e.Do(t, "POST", "/csv/actions", `{"preset":"all"}`, auth(ops)...).MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/actions", `{"preset":"all","operation":"explode"}`, auth(ops)...).MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/actions", `{"filter":"userName xx 1","operation":"deactivate"}`, auth(ops)...).MustError(t, http.StatusBadRequest, "invalidFilter")
		e.Do(t, "POST", "/csv/actions", `{"operation":"deactivate"}`, auth(ops)...).MustError(t, http.StatusBadRequest, "invalidFilter")
		e.Do(t, "POST", "/csv/actions", `{not json`, auth(ops)...).MustError(t, http.StatusBadRequest, "invalidSyntax")

		r := e.Do(t, "POST", "/csv/actions", body, auth(ops)...).Must(t, http.StatusAccepted)
		id := r.JSON(t)["id"].(string)
		if r.Header.Get("Location") != "/csv/actions/"+id {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		job := waitJob(t, e, "/csv/actions/"+id, "validating")
		if job["state"] != "validated" || job["kind"] != "action" || count(job, "update") != "1" || count(job, "total") != "1" {
			t.Fatalf("preview: %v", job)
		}
		rows := e.Do(t, "GET", "/csv/actions/"+id+"/rows", "", auth(ops)...).Must(t, http.StatusOK).JSON(t)["rows"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["userName"] != "ann@example.com" {
			t.Fatalf("rows: %v", rows)
		}
		e.Do(t, "GET", "/csv/actions/"+id, "", auth(desk)...).MustError(t, http.StatusForbidden, "")
		e.Do(t, "POST", "/csv/actions/"+id+"/commit", "", auth(ops)...).Must(t, http.StatusAccepted)
		job = waitJob(t, e, "/csv/actions/"+id, "committing")
		if job["state"] != "completed" || job["summary"] != "Action applied: 1 updated, 0 failed." {
			t.Fatalf("after commit: %v", job)
		}
		rep := e.Do(t, "GET", "/csv/actions/"+id+"/report.csv", "").Must(t, http.StatusOK)
		if !strings.Contains(rep.Header.Get("Content-Disposition"), "action-"+id+"-report.csv") || !strings.HasPrefix(string(rep.Body), "id,userName,_row,_action,_status") {
			t.Fatalf("report: %v %s", rep.Header, rep.Body)
		}
		users := e.Do(t, "GET", "Users?filter=roles.value+eq+%22Coordinator%22", "").Must(t, http.StatusOK).JSON(t)
		if users["totalResults"].(json.Number).String() != "1" {
			t.Fatalf("users with the role: %v", users)
		}
		imp := e.Do(t, "POST", "/csv/imports?profile=support-tiers", tiersFile, "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
		e.Do(t, "GET", "/csv/actions/"+imp, "").MustError(t, http.StatusNotFound, "")
		e.Do(t, "GET", "/csv/actions/not-an-id/rows", "").MustError(t, http.StatusNotFound, "")
	})
}

func TestExportJobsOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createExportUser(t, e, "ann@example.com", true)
		createExportUser(t, e, "bob@example.com", false)
		desk := e.NewToken(t, store.DefaultTenant, "desk", policy.Tier0HelpDesk)
		stream := e.Do(t, "GET", "/csv/exports/users.csv?preset=active&crlf=false", "", auth(desk)...).Must(t, http.StatusOK)
		r := e.Do(t, "POST", "/csv/exports?preset=active&crlf=false", "", auth(desk)...).Must(t, http.StatusAccepted)
		id := r.JSON(t)["id"].(string)
		if r.Header.Get("Location") != "/csv/exports/"+id {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		job := waitJob(t, e, "/csv/exports/"+id, "running")
		if job["state"] != "completed" || job["kind"] != "export" || count(job, "total") != "1" {
			t.Fatalf("export job: %v", job)
		}
		dl := e.Do(t, "GET", "/csv/exports/"+id+"/download", "", auth(desk)...).Must(t, http.StatusOK)
		if !bytes.Equal(dl.Body, stream.Body) || !strings.HasPrefix(dl.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(dl.Header.Get("Content-Disposition"), "users-scim-") {
			t.Fatalf("download %q (%v), stream %q", dl.Body, dl.Header, stream.Body)
		}
		e.Do(t, "POST", "/csv/exports?resource=robots", "").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/exports?members=rows", "").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/exports?raw=true", "", auth(desk)...).MustError(t, http.StatusForbidden, "")
		e.Do(t, "POST", "/csv/exports?filter=bogus+eq+1", "").MustError(t, http.StatusBadRequest, "invalidFilter")
		e.Do(t, "GET", "/csv/exports/groups.csv?members=sideways", "").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "GET", "/csv/exports/"+id+"x/download", "").MustError(t, http.StatusNotFound, "")
		rows := e.Do(t, "GET", "/csv/exports/groups.csv?members=rows&bom=false", "").Must(t, http.StatusOK)
		if !strings.HasPrefix(string(rows.Body), "id,displayName,externalId,members.value,members.display\r\n") {
			t.Fatalf("membership rows: %s", rows.Body)
		}
		if err := e.Store.CreateTenant(t.Context(), "acme", time.Now()); err != nil {
			t.Fatal(err)
		}
		other := e.NewToken(t, "acme", "acme-admin", policy.Tier3Engineering)
		e.Do(t, "GET", "/csv/exports/"+id+"/download", "", auth(other)...).MustError(t, http.StatusNotFound, "")
	})
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPhotosOverHTTP(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		createExportUser(t, e, "ann@example.com", true)
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		for name, body := range map[string][]byte{"ann@example.com.png": testPNG(t), "../x.png": testPNG(t), "notes.png": []byte("text")} {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write(body)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		desk := e.NewToken(t, store.DefaultTenant, "desk", policy.Tier0HelpDesk)
		e.Do(t, "POST", "/csv/photos?match=userName", zb.String(), append(auth(desk), "Content-Type", "application/zip")...).MustError(t, http.StatusForbidden, "")
		e.Do(t, "POST", "/csv/photos", "PK but no zip", "Content-Type", "application/zip").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/photos?match=name.nope", zb.String(), "Content-Type", "application/zip").MustError(t, http.StatusBadRequest, "invalidValue")
		rep := e.Do(t, "POST", "/csv/photos?match=userName", zb.String(), "Content-Type", "application/zip").Must(t, http.StatusOK).JSON(t)
		if count(rep, "inserted") != "1" || count(rep, "invalid") != "2" {
			t.Fatalf("report: %v", rep)
		}
		users := e.Do(t, "GET", "Users?filter=userName+eq+%22ann@example.com%22", "").Must(t, http.StatusOK).JSON(t)
		u := users["Resources"].([]any)[0].(map[string]any)
		photo := u["photos"].([]any)[0].(map[string]any)
		url := photo["value"].(string)
		if photo["type"] != "photo" || !strings.HasPrefix(url, e.URL+"/csv/photos/") {
			t.Fatalf("photos: %v", u["photos"])
		}
		got := e.Do(t, "GET", strings.TrimPrefix(url, e.URL), "", auth(desk)...).Must(t, http.StatusOK)
		if !bytes.Equal(got.Body, testPNG(t)) || got.Header.Get("Content-Type") != "image/png" || got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("served photo: %v, %d bytes", got.Header, len(got.Body))
		}
		e.Do(t, "GET", strings.TrimPrefix(url, e.URL), "", "If-None-Match", got.Header.Get("ETag")).Must(t, http.StatusNotModified)
		e.Do(t, "GET", strings.TrimPrefix(url, e.URL), "", "Authorization", "").MustError(t, http.StatusUnauthorized, "")
		if err := e.Store.CreateTenant(t.Context(), "acme", time.Now()); err != nil {
			t.Fatal(err)
		}
		other := e.NewToken(t, "acme", "acme-admin", policy.Tier3Engineering)
		e.Do(t, "GET", strings.TrimPrefix(url, e.URL), "", auth(other)...).MustError(t, http.StatusNotFound, "")
	})
}
