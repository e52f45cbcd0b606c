package csvhttp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

const settingsDoc = `{"sources":["slack"],"roles":["Nurse","Agent"],"offices":["Main Street Clinic"],
	"orgFields":[{"name":"startDate","type":"date"}],
	"notifications":{"signInUrl":"https://login.example.com/","from":"noreply@example.com"}}`

// TestSeedProfileTemplatesAndGuides: each seed profile is listed, serves
// its template (the tenant's organisation fields included where the
// profile has them, an example row on request) and a field guide naming
// every column with what it accepts and when it is required.
func TestSeedProfileTemplatesAndGuides(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		e.Do(t, "PUT", "/settings", settingsDoc, "Content-Type", "application/json").Must(t, http.StatusOK)
		want := map[string]string{
			"people-directory":      "Current Status,Display Name,Primary Email,Role,Groups,Source Username(s)\r\n",
			"contact-center-agents": "lan id,first name,last name,agent id,pbx id,profile,supervisor,org unit,role,access role,crm name,text chat greeting template name\r\n",
			"tenant-users":          "userId,tenant,firstName,lastName,email,enabled,reportsTo,roles,taskNotification,transaction,notifyIfNewUser\r\n",
			"professional-users":    "Internal ID,Profile Type ID,Email Address,First Name,Last Name,Office,Profile Status,Mobile Phone,Mobile Phone Country,startDate\r\n",
		}
		listed := map[string]bool{}
		for _, p := range e.Do(t, "GET", "/csv/profiles", "").Must(t, http.StatusOK).JSON(t)["profiles"].([]any) {
			listed[p.(map[string]any)["name"].(string)] = true
		}
		for name, header := range want {
			if !listed[name] {
				t.Errorf("%s is not listed", name)
			}
			tpl := e.Do(t, "GET", "/csv/profiles/"+name+"/template.csv", "").Must(t, http.StatusOK)
			if string(tpl.Body) != header {
				t.Errorf("%s template %q, want %q", name, tpl.Body, header)
			}
			ex := e.Do(t, "GET", "/csv/profiles/"+name+"/template.csv?example=true", "").Must(t, http.StatusOK)
			if lines := strings.Split(strings.TrimSuffix(string(ex.Body), "\r\n"), "\r\n"); len(lines) != 2 {
				t.Errorf("%s example template %q", name, ex.Body)
			}
			guide := e.Do(t, "GET", "/csv/profiles/"+name+"/guide", "").Must(t, http.StatusOK).JSON(t)
			cols := guide["columns"].([]any)
			if len(cols) != strings.Count(header, ",")+1 {
				t.Errorf("%s guide has %d columns, the template %d", name, len(cols), strings.Count(header, ",")+1)
			}
			for _, c := range cols {
				m := c.(map[string]any)
				if m["column"] == "" || m["accepts"] == "" || m["onCreate"] == "" || m["onUpdate"] == "" {
					t.Errorf("%s guide column %v", name, m)
				}
			}
		}
		guide := e.Do(t, "GET", "/csv/profiles/professional-users/guide", "").Must(t, http.StatusOK).JSON(t)
		last := guide["columns"].([]any)[9].(map[string]any)
		if last["column"] != "startDate" || !strings.Contains(last["accepts"].(string), "YYYY-MM-DD") {
			t.Errorf("organisation field in the guide: %v", last)
		}
		status := guide["columns"].([]any)[6].(map[string]any)
		if !strings.Contains(status["onCreate"].(string), "INACTIVE") || !strings.Contains(status["accepts"].(string), "DELETED") {
			t.Errorf("Profile Status guide: %v", status)
		}
		e.Do(t, "GET", "/csv/profiles/nope/guide", "").MustError(t, http.StatusNotFound, "")
	})
}

// TestSeedProfileUploadOptions: professional-users takes the file's role
// as a query parameter and the e-mail choice in the commit body.
func TestSeedProfileUploadOptions(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		e.Do(t, "PUT", "/settings", settingsDoc, "Content-Type", "application/json").Must(t, http.StatusOK)
		file := "Internal ID,Profile Type ID,Email Address,First Name,Last Name,Office,Profile Status,Mobile Phone,Mobile Phone Country,startDate\n" +
			",1,ivy@example.com,Ivy,Ind,Main Street Clinic,,,,2024-01-31\n" + ",2,fac@example.com,Acme,,Main Street Clinic,ACTIVE,,,\n"
		e.Do(t, "POST", "/csv/imports?profile=professional-users", file, "Content-Type", "text/csv").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/imports?profile=professional-users&role=Janitor", file, "Content-Type", "text/csv").MustError(t, http.StatusBadRequest, "invalidValue")
		e.Do(t, "POST", "/csv/imports?profile=professional-users&role=Nurse&colour=red", file, "Content-Type", "text/csv").MustError(t, http.StatusBadRequest, "invalidValue")
		id := e.Do(t, "POST", "/csv/imports?profile=professional-users&role=Nurse", file, "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
		if job := waitState(t, e, id); job["state"] != "validated" || count(job, "create") != "2" {
			t.Fatalf("preview: %v", job)
		}
		e.Do(t, "POST", "/csv/imports/"+id+"/commit", `{"notify":{"rows":[2]}}`).Must(t, http.StatusAccepted)
		job := waitState(t, e, id)
		if job["summary"] != "Batch upload finished: 2 created, 0 updated, 0 deleted, 0 unchanged, 0 not selected, 0 failed." {
			t.Fatalf("after commit: %v", job)
		}
		out := e.Do(t, "GET", "/settings/outbox", "").Must(t, http.StatusOK).JSON(t)
		msgs, _ := out["messages"].([]any)
		if len(msgs) != 1 || msgs[0].(map[string]any)["to"] != "ivy@example.com" {
			t.Errorf("outbox: %v", out)
		}
		// A profile whose file says who is notified takes no choice at commit.
		tu := e.Do(t, "POST", "/csv/imports?profile=tenant-users", "userId,email\nann,ann@example.com\n", "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
		waitState(t, e, tu)
		e.Do(t, "POST", "/csv/imports/"+tu+"/commit", `{"notify":{"all":true}}`).MustError(t, http.StatusBadRequest, "invalidValue")
	})
}

const customProfile = `{
  "title": "Brokers",
  "matchKeys": ["userName"],
  "commit": "apply-valid",
  "mode": "insert-only",
  "columns": [
    {"header": "login", "paths": ["userName"], "required": "always", "pattern": "^[a-z]+$", "example": "ann"},
    {"header": "mail", "paths": ["emails[type eq \"work\"].value"], "format": "email", "example": "ann@example.com"},
    {"header": "status", "paths": ["active"], "type": "boolean", "valueMap": {"on": true, "off": false}, "enum": ["on", "off"]},
    {"header": "role", "paths": ["roles.value"], "list": "roles"}
  ]
}`

// TestCustomProfiles: a tier 2 admin stores a profile as JSON; mistakes
// are 400s naming the field; versions count up; the profile is listed,
// serves a template and a guide, and imports like a built-in.
func TestCustomProfiles(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		e.Do(t, "PUT", "/settings", settingsDoc, "Content-Type", "application/json").Must(t, http.StatusOK)
		ops := "Bearer " + e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
		e.Do(t, "PUT", "/csv/profiles/brokers", customProfile, "Authorization", ops).MustError(t, http.StatusForbidden, "")

		bad := []struct{ body, field string }{
			{strings.Replace(customProfile, `"paths": ["userName"]`, `"paths": ["userNme"]`, 1), "columns[0].paths[0]"},
			{strings.Replace(customProfile, `"^[a-z]+$"`, `"(["`, 1), "columns[0].pattern"},
			{strings.Replace(customProfile, `"title"`, `"titel"`, 1), "titel"},
			{strings.Replace(customProfile, `"insert-only"`, `"sometimes"`, 1), "mode"},
			{strings.Replace(customProfile, `"roles"}`, `"colours"}`, 1), "columns[3].list"},
			{strings.Replace(customProfile, `"type": "boolean"`, `"type": 7`, 1), "columns.type"},
			{strings.Replace(customProfile, `["userName"]`, `["phone"]`, 1), "matchKeys[0]"},
		}
		for _, b := range bad {
			detail := e.Do(t, "PUT", "/csv/profiles/brokers", b.body).MustError(t, http.StatusBadRequest, "invalidValue")["detail"].(string)
			if !strings.Contains(detail, b.field+":") {
				t.Errorf("want the error to name %s: %s", b.field, detail)
			}
		}
		e.Do(t, "PUT", "/csv/profiles/brokers", "{not json").MustError(t, http.StatusBadRequest, "invalidSyntax")
		e.Do(t, "PUT", "/csv/profiles/scim", customProfile).MustError(t, http.StatusConflict, "uniqueness")
		e.Do(t, "PUT", "/csv/profiles/Bad%20Name", customProfile).MustError(t, http.StatusBadRequest, "invalidValue")

		v1 := e.Do(t, "PUT", "/csv/profiles/brokers", customProfile).Must(t, http.StatusCreated).JSON(t)
		if v1["version"].(json.Number).String() != "1" || v1["name"] != "brokers" {
			t.Fatalf("stored: %v", v1)
		}
		v2 := e.Do(t, "PUT", "/csv/profiles/brokers", strings.Replace(customProfile, `"Brokers"`, `"Insurance brokers"`, 1)).Must(t, http.StatusOK).JSON(t)
		if v2["version"].(json.Number).String() != "2" {
			t.Fatalf("second version: %v", v2)
		}
		e.Do(t, "PUT", "/csv/profiles/brokers", strings.Replace(customProfile, `"title"`, `"version": 2, "title"`, 1)).MustError(t, http.StatusConflict, "")

		got := e.Do(t, "GET", "/csv/profiles/brokers", "").Must(t, http.StatusOK).JSON(t)
		if got["title"] != "Insurance brokers" {
			t.Errorf("latest: %v", got)
		}
		if tpl := e.Do(t, "GET", "/csv/profiles/brokers/template.csv", "").Must(t, http.StatusOK); string(tpl.Body) != "login,mail,status,role\r\n" {
			t.Errorf("template %q", tpl.Body)
		}
		e.Do(t, "GET", "/csv/profiles/brokers/guide", "").Must(t, http.StatusOK)

		file := "login,mail,status,role\nann,ann@example.com,on,Nurse\nbob,bob@example.com,maybe,Nurse\ncy,cy@example.com,off,Pilot\n"
		id := e.Do(t, "POST", "/csv/imports?profile=brokers", file, "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
		job := waitState(t, e, id)
		if job["profileVersion"].(json.Number).String() != "2" || count(job, "create") != "1" || count(job, "error") != "2" {
			t.Fatalf("preview: %v", job)
		}
		e.Do(t, "POST", "/csv/imports/"+id+"/commit", "").Must(t, http.StatusAccepted)
		if job = waitState(t, e, id); job["summary"] != "Users loaded: 1 added, 0 updated, 0 deleted, 2 failed." {
			t.Fatalf("commit: %v", job)
		}
		again := e.Do(t, "POST", "/csv/imports?profile=brokers", file, "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
		if job := waitState(t, e, again); count(job, "duplicate") != "1" {
			t.Fatalf("insert-only again: %v", job)
		}
	})
}

// TestSeedProfileExampleTemplates: each seed profile's template with its
// example row (?example=true) uploads as one valid new user once the
// tenant has what the example names (groups, sources, roles, offices, the
// supervisor).
func TestSeedProfileExampleTemplates(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		doc := strings.Replace(settingsDoc, `"sources":["slack"]`, `"sources":["slack","teams"]`, 1)
		e.Do(t, "PUT", "/settings", doc, "Content-Type", "application/json").Must(t, http.StatusOK)
		for _, g := range []string{"Group 1", "Group 2", "Team North"} {
			e.Do(t, "POST", "Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+g+`"}`).Must(t, http.StatusCreated)
		}
		for _, u := range []string{"janesmith1", "admin"} {
			e.Do(t, "POST", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+u+`"}`).Must(t, http.StatusCreated)
		}
		for _, name := range []string{"people-directory", "contact-center-agents", "tenant-users", "professional-users"} {
			ex := e.Do(t, "GET", "/csv/profiles/"+name+"/template.csv?example=true", "").Must(t, http.StatusOK)
			path := "/csv/imports?profile=" + name
			if name == "professional-users" {
				path += "&role=Nurse"
			}
			id := e.Do(t, "POST", path, string(ex.Body), "Content-Type", "text/csv").Must(t, http.StatusAccepted).JSON(t)["id"].(string)
			job := waitState(t, e, id)
			if job["state"] != "validated" || count(job, "create") != "1" || count(job, "error") != "0" {
				rows := e.Do(t, "GET", "/csv/imports/"+id+"/rows", "").Must(t, http.StatusOK).JSON(t)
				t.Errorf("%s example row: %v\n%v", name, job, rows)
			}
		}
	})
}
