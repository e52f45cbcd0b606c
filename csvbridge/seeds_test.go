package csvbridge_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// root is a tier-3 principal for setting up tenants.
var root = policy.Principal{Tenant: store.DefaultTenant, Subject: "root", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}

// partner is a tier-2 importer (group memberships and deletes need tier 2).
var partner = policy.Principal{Tenant: store.DefaultTenant, Subject: "partner-script", Kind: policy.KindProvisioner, Tier: policy.Tier2SoftwarePartner}

func (e *jobEnv) settings(t *testing.T, fn func(*directory.TenantSettings)) {
	t.Helper()
	if _, err := e.dir.UpdateSettings(t.Context(), root, func(ts *directory.TenantSettings) error { fn(ts); return nil }); err != nil {
		t.Fatalf("settings: %v", err)
	}
}

// group creates a group with the given members (user or group ids).
func (e *jobEnv) group(t *testing.T, name string, members ...string) string {
	t.Helper()
	var list []any
	for _, m := range members {
		list = append(list, map[string]any{"value": m})
	}
	body := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name}
	if list != nil {
		body["members"] = list
	}
	g, err := e.dir.CreateGroup(t.Context(), root, body)
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	return g.ID
}

// user returns the document of the user with the userName (nil if none).
func (e *jobEnv) user(t *testing.T, userName string) schema.Doc {
	t.Helper()
	found, err := e.dir.UsersByKeys(t.Context(), root, "userName", []string{userName}, directory.Lookup{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		return nil
	}
	doc, err := found[0].Document()
	if err != nil {
		t.Fatal(err)
	}
	doc["id"] = found[0].ID
	return doc
}

func (e *jobEnv) outbox(t *testing.T) []directory.OutboxMessage {
	t.Helper()
	msgs, err := e.dir.Outbox(t.Context(), root, directory.OutboxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func (e *jobEnv) rows(t *testing.T, id string, q csvbridge.RowQuery) []csvbridge.RowView {
	t.Helper()
	q.Limit = 500
	rows, _, err := e.jobs.Rows(t.Context(), e.admin, id, q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rowErr returns the error code and text of a row.
func rowErr(t *testing.T, rows []csvbridge.RowView, n int) (string, string) {
	t.Helper()
	for _, r := range rows {
		if r.Row == n {
			return r.ErrorCode, r.Error
		}
	}
	t.Fatalf("row %d not among %d rows", n, len(rows))
	return "", ""
}

func wantRowErr(t *testing.T, rows []csvbridge.RowView, n int, code, text string) {
	t.Helper()
	c, msg := rowErr(t, rows, n)
	if c != code || !strings.Contains(msg, text) {
		t.Errorf("row %d: %s %q, want %s containing %q", n, c, msg, code, text)
	}
}

// template is the profile's template (as the tenant sees it) with rows
// appended.
func template(t *testing.T, p *csvbridge.Profile, rows ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := csvbridge.WriteTemplate(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String() + strings.Join(rows, "\r\n") + "\r\n"
}

func rowNumbers(rows []csvbridge.RowView) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = r.Row
	}
	return out
}

func memberOf(doc schema.Doc, group string) bool {
	list, _ := doc["groups"].([]any)
	for _, el := range list {
		if m, _ := el.(map[string]any); m["display"] == group {
			return true
		}
	}
	return false
}

func TestJobs_PeopleDirectory(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.settings(t, func(ts *directory.TenantSettings) { ts.Sources = []string{"slack", "teams"} })
		g1 := e.group(t, "Group 1")
		e.group(t, "Group 2")
		john := e.createUser(t, "john@example.com", "John")
		if _, err := e.dir.PatchGroup(t.Context(), root, g1, []directory.PatchOp{{Op: "add", Path: "members", Value: []any{map[string]any{"value": john.ID}}}}, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}

		body := template(t, csvbridge.PeopleDirectoryProfile(),
			`Active,Jane Roe,jane@example.com,Admin,"Group 1,Group 2",slack:jane`,
			`Archived,"Doe, John",john@example.com,User,Group 2,"teams:jd,slack:john"`,
			`Active,Bad Mail,not-an-email,User,none,`,
			`Active,Unknown Source,unk@example.com,User,none,myspace:unk`,
			`Active,No Group,nog@example.com,User,Group 9,`,
			`Pending,Bad Status,bs@example.com,User,none,`,
			`Active,Bad Role,br@example.com,Owner,none,`,
			`,Quiet Default,quiet@example.com,Supervisor,none,`,
		)
		v := e.submit(t, csvbridge.ProfilePeopleDirectory, body)
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"total": 8, "create": 2, "update": 1, "error": 5})
		if want := "2 new users will be added and 1 existing users will be updated (0 unchanged, 5 with errors)."; v.Summary != want {
			t.Errorf("preview %q, want %q", v.Summary, want)
		}
		failed := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"})
		wantRowErr(t, failed, 4, "invalid_email", "not a valid email address")
		wantRowErr(t, failed, 5, "unknown_source", `Unknown source "myspace"`)
		wantRowErr(t, failed, 6, "unknown_group", `No group is named "Group 9"`)
		wantRowErr(t, failed, 7, "enum", `"Pending" is not one of the allowed values`)
		wantRowErr(t, failed, 8, "enum", `"Owner"`)

		v = e.commit(t, v.ID)
		wantState(t, v, store.JobCompletedWithErrors)
		if want := "Users loaded: 2 added, 1 updated, 0 deleted, 5 failed."; v.Summary != want {
			t.Errorf("summary %q, want %q", v.Summary, want)
		}
		jane := e.user(t, "jane@example.com")
		if jane["active"] != true || !memberOf(jane, "Group 1") || !memberOf(jane, "Group 2") || jane["displayName"] != "Jane Roe" {
			t.Errorf("jane: %v", jane)
		}
		if ims, _ := jane["ims"].([]any); len(ims) != 1 || ims[0].(map[string]any)["type"] != "slack" {
			t.Errorf("jane's source usernames: %v", jane["ims"])
		}
		jd := e.user(t, "john@example.com")
		if jd["active"] != false || !memberOf(jd, "Group 1") || !memberOf(jd, "Group 2") {
			t.Errorf("john keeps Group 1, joins Group 2, is archived: %v", jd)
		}
		if ims, _ := jd["ims"].([]any); len(ims) != 2 {
			t.Errorf("john's source usernames: %v", jd["ims"])
		}
		if q := e.user(t, "quiet@example.com"); q["active"] != true {
			t.Errorf("a blank status makes a new user active: %v", q)
		}

		again := e.submit(t, csvbridge.ProfilePeopleDirectory, body)
		wantCounts(t, again, map[string]int{"create": 0, "update": 0, "unchanged": 3, "error": 5})

		// An export with the profile (groups and source usernames included)
		// imports again as all unchanged.
		x, err := e.jobs.Exporter().Prepare(t.Context(), partner, csvbridge.ExportRequest{Profile: csvbridge.ProfilePeopleDirectory})
		if err != nil {
			t.Fatal(err)
		}
		var exported bytes.Buffer
		if _, err := x.Write(t.Context(), &exported, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(exported.String(), `"Group 1,Group 2"`) || !strings.Contains(exported.String(), "teams:jd") {
			t.Errorf("export:\n%s", exported.String())
		}
		round := e.submit(t, csvbridge.ProfilePeopleDirectory, exported.String())
		wantCounts(t, round, map[string]int{"total": 3, "unchanged": 3})
	})
}

// TestJobs_PeopleDirectoryGroupsNeedTier2: adding users to groups is a
// group change (tier 2), refused at preview for a tier 1 importer.
func TestJobs_PeopleDirectoryGroupsNeedTier2(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.group(t, "Group 1")
		body := template(t, csvbridge.PeopleDirectoryProfile(), `Active,Ann,ann@example.com,User,Group 1,`, `Active,Bob,bob@example.com,User,none,`)
		v := e.submit(t, csvbridge.ProfilePeopleDirectory, body)
		wantCounts(t, v, map[string]int{"create": 1, "error": 1})
		wantRowErr(t, e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"}), 2, "forbidden", "support-tier-2")
	})
}

func TestPeopleDirectoryRowLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(template(t, csvbridge.PeopleDirectoryProfile()))
	for i := range 2001 {
		b.WriteString("Active,U,u" + strings.Repeat("x", i%3) + "@example.com,User,none,\r\n")
	}
	im, err := csvbridge.Open(strings.NewReader(b.String()), csvbridge.PeopleDirectoryProfile(), schema.New(), csvbridge.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err = im.Next()
		if err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "2000") {
		t.Fatalf("2,001 rows: %v", err)
	}
}

func TestJobs_ContactCenterAgents(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.settings(t, func(ts *directory.TenantSettings) { ts.Roles = []string{"Agent", "Supervisor"} })
		team := e.group(t, "Team North")
		e.group(t, "North", team)
		e.createUser(t, "exist1", "Ex")

		body := template(t, csvbridge.ContactCenterProfile(),
			`sup1,Sue,Boss,sup1,100,supervisor,,North,Supervisor,,,`,
			`agent1,Al,Gent,agent1,101,agent,sup1,Team North,Agent,basic,al.crm,Hello`,
			`exist1,Ex,Ist,exist1,102,agent,,Team North,Agent,,,`,
			`agent2,Bo,Bad,agent2,103,agent,sup9,Team North,Agent,,,`,
			`agent3,Cy,Later,agent3,104,agent,agent4,Team North,Agent,,,`,
			`agent4,Di,Four,agent4,105,agent,,Team North,Agent,,,`,
			`agent$5,Ed,Five,agent5,106,agent,,Team North,Agent,,,`,
			`agent6,Fa,Six,agent6,107,agent,,North,Agent,,,`,
			`agent7,Gi,Seven,agent7,108,agent,,team north,Agent,,,`,
			`agent8,Ho,Eight,agent8,109,agent,,Team North,Manager,,,`,
			`agent9,Io,Nine,agent9,109,agent,,Team North,Agent,,,`,
		)
		v := e.submit(t, csvbridge.ProfileContactCenter, body)
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"total": 11, "create": 3, "duplicate": 1, "error": 7})
		if want := "Preview: 3 to insert, 1 duplicate (lan id already exists), 7 invalid."; v.Summary != want {
			t.Errorf("preview %q", v.Summary)
		}
		failed := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"})
		wantRowErr(t, failed, 5, "unknown_reference", `"sup9"`)
		wantRowErr(t, failed, 6, "unknown_reference", "no earlier row")
		wantRowErr(t, failed, 8, "pattern", `"agent$5"`)
		wantRowErr(t, failed, 9, "not_a_team", "lowest level")
		wantRowErr(t, failed, 10, "unknown_group", `"team north"`)
		wantRowErr(t, failed, 11, "unknown_role", `Role "Manager" does not exist`)
		wantRowErr(t, failed, 12, "duplicate_in_file", "pbx id")

		v = e.commit(t, v.ID)
		if want := "Import complete: 1 duplicate records, 3 inserted records, 7 invalid records."; v.Summary != want {
			t.Errorf("summary %q, want %q", v.Summary, want)
		}
		dups := e.rows(t, v.ID, csvbridge.RowQuery{Action: "duplicate"})
		if got := rowNumbers(dups); len(got) != 1 || got[0] != 4 || !strings.Contains(dups[0].Issues[0].Message, "already exists") {
			t.Errorf("duplicate rows %v %+v", got, dups)
		}
		if got := rowNumbers(e.rows(t, v.ID, csvbridge.RowQuery{Action: "create"})); len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 7 {
			t.Errorf("inserted rows %v", got)
		}
		if got := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"}); len(got) != 7 {
			t.Errorf("invalid rows %v", rowNumbers(got))
		}
		sup, agent := e.user(t, "sup1"), e.user(t, "agent1")
		ent, _ := agent[schema.EnterpriseURN].(map[string]any)
		manager, _ := ent["manager"].(map[string]any)
		if manager["value"] != sup["id"] || ent["employeeNumber"] != "agent1" || agent["userType"] != "agent" || !memberOf(agent, "Team North") {
			t.Errorf("agent1: %v", agent)
		}
		if e.user(t, "exist1")["name"].(map[string]any)["familyName"] != "Existing" {
			t.Error("a duplicate row changed the existing user")
		}
		// An export names the supervisor by lan id, as the template does.
		file, _ := e.export(t, partner, csvbridge.ExportRequest{Profile: csvbridge.ProfileContactCenter, Filter: `userName sw "agent"`})
		if got := columnByKey(t, file, "lan id", "supervisor"); !maps.Equal(got, map[string]string{"agent1": "sup1", "agent4": ""}) {
			t.Errorf("supervisor column %v", got)
		}
	})
}

// TestJobs_ContactCenterTakenIDs: an agent id or pbx id another user
// already holds fails the row (seed 002: "pbx id: a unique number");
// only the pbx phone number counts, not the user's other numbers.
func TestJobs_ContactCenterTakenIDs(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.settings(t, func(ts *directory.TenantSettings) { ts.Roles = []string{"Agent"} })
		e.group(t, "Team North")
		if _, err := e.dir.CreateUser(t.Context(), root, map[string]any{"userName": "old1",
			"phoneNumbers":       []any{map[string]any{"type": "pbx", "value": "200"}, map[string]any{"type": "mobile", "value": "300"}},
			schema.EnterpriseURN: map[string]any{"employeeNumber": "AGENT5"}}); err != nil {
			t.Fatal(err)
		}
		body := template(t, csvbridge.ContactCenterProfile(),
			`new1,Ne,One,agent5,101,agent,,Team North,Agent,,,`,
			`new2,Ne,Two,new2,200,agent,,Team North,Agent,,,`,
			`new3,Ne,Three,new3,300,agent,,Team North,Agent,,,`,
		)
		v := e.submit(t, csvbridge.ProfileContactCenter, body)
		wantCounts(t, v, map[string]int{"create": 1, "error": 2})
		failed := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"})
		wantRowErr(t, failed, 2, "taken", `agent id "agent5" is already used by user "old1"`)
		wantRowErr(t, failed, 3, "taken", `pbx id "200" is already used by user "old1"`)
	})
}

// seed003 is the users file of seed 003's first load: admin exists (and
// changes), three users are new, four roles are new.
const seed003 = "userId,tenant,firstName,lastName,email,enabled,reportsTo,roles,taskNotification,transaction,notifyIfNewUser\n" +
	"admin,,Ada,Admin,admin@example.com,true,,Admin,,,\n" +
	"pat,default,Pat,Jones,pat@example.com,true,admin,Manager|Reviewer,OFF,,false\n" +
	"lee,,Lee,Park,lee@example.com,true,pat,Agent,,,\n" +
	"kim,,Kim,Ode,kim@example.com,true,pat,Agent|Reviewer,Email,,\n"

func TestJobs_TenantUsersSeedWalkThrough(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.settings(t, func(ts *directory.TenantSettings) {
			ts.Notifications = directory.Notifications{SignInURL: "https://login.example.com/setup", From: "noreply@example.com"}
		})
		e.createUser(t, "admin", "Ada")

		v := e.submit(t, csvbridge.ProfileTenantUsers, seed003)
		wantState(t, v, store.JobValidated)
		if want := "Validation succeeded: 3 to add, 1 to update, 0 to delete, 4 roles to add. Load the file to apply it."; v.Summary != want {
			t.Errorf("preview %q", v.Summary)
		}
		v = e.commit(t, v.ID)
		if want := "Users Loaded successfully. 3 Added, 1 Updated, 0 Deleted, 4 Roles Added."; v.Summary != want {
			t.Fatalf("summary %q, want %q", v.Summary, want)
		}
		ts, err := e.dir.Settings(t.Context(), root)
		if err != nil || strings.Join(ts.Roles, ",") != "Admin,Manager,Reviewer,Agent" {
			t.Errorf("catalogue %v, %v", ts.Roles, err)
		}
		if len(e.outbox(t)) != 0 {
			t.Error("nobody asked to be notified")
		}

		// The walk-through: change a last name, add mary with the new role
		// Coordinator, notify her.
		walk := strings.Replace(seed003, "Pat,Jones", "Pat,Smith", 1) + "mary,,Mary,Lamb,mary@example.com,true,admin,Coordinator,,,TRUE\n"
		v = e.submit(t, csvbridge.ProfileTenantUsers, walk)
		wantCounts(t, v, map[string]int{"create": 1, "update": 1, "unchanged": 3, "rolesAdded": 1})
		v = e.commit(t, v.ID)
		if want := "Users Loaded successfully. 1 Added, 1 Updated, 0 Deleted, 1 Roles Added."; v.Summary != want {
			t.Fatalf("summary %q, want %q", v.Summary, want)
		}
		mary := e.user(t, "mary")
		roles, _ := mary["roles"].([]any)
		if len(roles) != 1 || roles[0].(map[string]any)["value"] != "Coordinator" || mary["active"] != true {
			t.Errorf("mary: %v", mary)
		}
		if pat := e.user(t, "pat"); pat["name"].(map[string]any)["familyName"] != "Smith" {
			t.Errorf("pat: %v", pat)
		}
		msgs := e.outbox(t)
		if len(msgs) != 1 || msgs[0].To != "mary@example.com" || !strings.Contains(msgs[0].Body, "https://login.example.com/setup") {
			t.Fatalf("outbox %+v", msgs)
		}

		// The users file downloaded (an export with the profile) names each
		// manager by userId, as the admin wrote it, and loads again as all
		// unchanged.
		x, err := e.jobs.Exporter().Prepare(t.Context(), partner, csvbridge.ExportRequest{Profile: csvbridge.ProfileTenantUsers})
		if err != nil {
			t.Fatal(err)
		}
		var exported bytes.Buffer
		if _, err := x.Write(t.Context(), &exported, nil); err != nil {
			t.Fatal(err)
		}
		managers := columnByKey(t, exported.String(), "userId", "reportsTo")
		if want := map[string]string{"admin": "", "pat": "admin", "lee": "pat", "kim": "pat", "mary": "admin"}; !maps.Equal(managers, want) {
			t.Errorf("reportsTo column %v, want %v", managers, want)
		}
		round := e.submit(t, csvbridge.ProfileTenantUsers, exported.String())
		wantCounts(t, round, map[string]int{"total": 5, "unchanged": 5, "error": 0, "rolesAdded": 0})

		// DELETE removes a user.
		del := "userId,email,transaction\nlee,lee@example.com,DELETE\n"
		v = e.commit(t, e.submit(t, csvbridge.ProfileTenantUsers, del).ID)
		if want := "Users Loaded successfully. 0 Added, 0 Updated, 1 Deleted, 0 Roles Added."; v.Summary != want {
			t.Errorf("summary %q", v.Summary)
		}
		if e.user(t, "lee") != nil {
			t.Error("lee was not deleted")
		}
	})
}

func TestJobs_TenantUsersRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		_, err := e.jobs.Submit(t.Context(), e.admin, csvbridge.ProfileTenantUsers, "users.csv", nil)
		if err == nil || !strings.Contains(err.Error(), "Users file is empty") {
			t.Errorf("empty file: %v", err)
		}
		bad := "userId,tenant,firstName,lastName,email,enabled,reportsTo,roles,taskNotification,transaction,notifyIfNewUser\n" +
			"ok,,Ok,User,ok@example.com,true,,Agent,,,\n" +
			"other,acme,Ot,Her,other@example.com,,,,,,\n" +
			"spaces,,Sp,Ace,spaces@example.com,,,Data Entry,,,\n" +
			"long,,Lo,Ng,long@example.com,,,R" + strings.Repeat("x", 100) + ",,,\n" +
			"sms,,Sm,S,sms@example.com,,,,SMS,,\n" +
			"nomail,,No,Mail,,,,,,,\n" +
			"act,,Ac,T,act@example.com,,,,,REMOVE,\n" +
			"notify,,No,Tify,notify@example.com,,,,,,maybe\n"
		v := e.submit(t, csvbridge.ProfileTenantUsers, bad)
		wantState(t, v, store.JobInvalid)
		if want := "Validation failed: 7 rows have errors. No user is loaded until every row is valid; fix them and validate the file again."; v.Summary != want {
			t.Errorf("summary %q", v.Summary)
		}
		failed := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"})
		wantRowErr(t, failed, 3, "wrong_tenant", `The row is for tenant "acme"`)
		wantRowErr(t, failed, 4, "pattern", `"Data Entry"`)
		wantRowErr(t, failed, 5, "too_long", "at most 100")
		wantRowErr(t, failed, 6, "enum", `"SMS"`)
		wantRowErr(t, failed, 7, "required", "A value is required")
		wantRowErr(t, failed, 8, "invalid_action", `"remove" is not an action`)
		wantRowErr(t, failed, 9, "invalid_boolean", `"maybe"`)
		if _, err := e.jobs.Commit(t.Context(), e.admin, v.ID, nil); err == nil {
			t.Error("an invalid all-or-nothing file was committed")
		}
		if e.userCount(t) != 0 {
			t.Error("an invalid file loaded users")
		}
	})
}

// TestJobs_TenantUsersLoadValidatesAgain changes the directory between
// validation and load: the load validates again and loads nothing.
func TestJobs_TenantUsersLoadValidatesAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		pat := e.createUser(t, "pat", "Pat")
		file := "userId,firstName,email\npat,Patricia,pat@example.com\nnew,New,new@example.com\n"
		v := e.submit(t, csvbridge.ProfileTenantUsers, file)
		wantCounts(t, v, map[string]int{"create": 1, "update": 1})
		ops := []directory.PatchOp{{Op: "replace", Path: "name.givenName", Value: "Patricia"}, {Op: "replace", Path: "emails", Value: []any{map[string]any{"type": "work", "primary": true, "value": "pat@example.com"}}}}
		if _, err := e.dir.PatchUser(t.Context(), root, pat.ID, ops, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}
		v = e.commit(t, v.ID)
		wantState(t, v, store.JobFailed)
		if !strings.HasPrefix(v.Summary, "Nothing was loaded: validating the file again") || !strings.Contains(v.Summary, "Row 2 is now planned as unchanged, not update") {
			t.Errorf("summary %q", v.Summary)
		}
		if e.user(t, "new") != nil {
			t.Error("a row was loaded although the second validation failed")
		}
	})
}

func professionalSettings(ts *directory.TenantSettings) {
	ts.Roles = []string{"Nurse", "Doctor"}
	ts.Offices = []string{"Main Street Clinic", "Harbor Office"}
	ts.OrgFields = []directory.OrgField{{Name: "startDate", Type: "date"}, {Name: "rate", Type: "decimal"}}
	ts.Notifications = directory.Notifications{SignInURL: "https://login.example.com/welcome", From: "noreply@example.com"}
}

func TestJobs_ProfessionalUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.settings(t, professionalSettings)
		ts, err := e.dir.Settings(t.Context(), root)
		if err != nil {
			t.Fatal(err)
		}
		prof := csvbridge.ProfessionalUsersProfile().ForTenant(&ts)
		header := strings.Join(csvbridge.TemplateHeader(prof), ",")
		if want := "Internal ID,Profile Type ID,Email Address,First Name,Last Name,Office,Profile Status,Mobile Phone,Mobile Phone Country,startDate,rate"; header != want {
			t.Fatalf("template header %q", header)
		}
		upload := func(body string, opts map[string]string) (csvbridge.View, error) {
			job, err := e.jobs.SubmitUpload(t.Context(), e.admin, csvbridge.Upload{Profile: csvbridge.ProfileProfessionalUsers, Options: opts, File: strings.NewReader(body)})
			if err != nil {
				return csvbridge.View{}, err
			}
			e.drain(t)
			return e.jobs.Get(t.Context(), e.admin, job.ID)
		}
		if _, err := upload(template(t, prof, ",1,a@example.com,A,B,Harbor Office,,,,,"), nil); err == nil || !strings.Contains(err.Error(), "needs the option role") {
			t.Errorf("no role: %v", err)
		}
		if _, err := upload(template(t, prof, ",1,a@example.com,A,B,Harbor Office,,,,,"), map[string]string{"role": "Janitor"}); err == nil || !strings.Contains(err.Error(), `Role "Janitor" does not exist`) {
			t.Errorf("unknown role: %v", err)
		}
		renamed := strings.Replace(template(t, prof, ",1,a@example.com,A,B,Harbor Office,,,,,"), ",Office,", ",Location,", 1)
		v, err := upload(renamed, map[string]string{"role": "Nurse"})
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, v, store.JobInvalid)
		if v.File == nil || len(v.File.Issues) < 2 || !strings.Contains(v.File.Issues[0].Message, `"Location"`) || !strings.Contains(v.File.Issues[1].Message, `no "Office" column`) {
			t.Errorf("renamed column: %+v", v.File)
		}

		existing := e.createUser(t, "old@example.com", "Old")
		same := e.createUser(t, "same@example.com", "Same")
		_ = same
		body := template(t, prof,
			`,1,ind@example.com,Ivy,Ind,Main Street Clinic,,5551234567,USA,2024-01-31,12.5`,
			`,2,fac@example.com,Acme Care,,Harbor Office,ACTIVE,,,,`,
			`,1,nolast@example.com,No,,Main Street Clinic,,,,,`,
			`,2,nobiz@example.com,,,Harbor Office,,,,,`,
			`,1,x@example.com,A,B,Nowhere,,,,,`,
			`,3,three@example.com,A,B,Harbor Office,,,,,`,
			`,1,ph@example.com,P,H,Main Street Clinic,,555-123-4567,USA,,`,
			`,1,cc@example.com,C,C,Main Street Clinic,,,US,,`,
			`,1,dt@example.com,D,T,Main Street Clinic,,,,31/01/2024,`,
			`,1,dec@example.com,D,E,Main Street Clinic,,,,,"12,5"`,
			existing.ID+`,,,,,,,,,2025-02-01,`,
			`,,same@example.com,,,,,,,,`,
		)
		v, err = upload(body, map[string]string{"role": "nurse"})
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"total": 12, "create": 2, "update": 2, "error": 8})
		failed := e.rows(t, v.ID, csvbridge.RowQuery{Status: "failed"})
		wantRowErr(t, failed, 4, "required", "when Profile Type ID is 1")
		wantRowErr(t, failed, 5, "required", "when Profile Type ID is 1 or 2")
		wantRowErr(t, failed, 6, "unknown_office", `Office "Nowhere"`)
		wantRowErr(t, failed, 7, "pattern", `"3"`)
		wantRowErr(t, failed, 8, "pattern", `"555-123-4567"`)
		wantRowErr(t, failed, 9, "pattern", `"US"`)
		wantRowErr(t, failed, 10, "invalid_date", "YYYY-MM-DD")
		wantRowErr(t, failed, 11, "invalid_decimal", "period")

		if _, err := e.jobs.Commit(t.Context(), e.admin, v.ID, nil); err == nil || !strings.Contains(err.Error(), "must be fixed or excluded") {
			t.Errorf("commit with errors left: %v", err)
		}
		// The admin unticks the failed rows and the facility, and sends the
		// e-mail to Ivy only.
		_, err = e.jobs.CommitWith(t.Context(), e.admin, v.ID, csvbridge.CommitOptions{Exclude: []int{3, 4, 5, 6, 7, 8, 9, 10, 11}, Notify: &csvbridge.NotifyChoice{Rows: []int{2, 3}}})
		if err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		v, _ = e.jobs.Get(t.Context(), e.admin, v.ID)
		if want := "Batch upload finished: 1 created, 2 updated, 0 deleted, 0 unchanged, 9 not selected, 0 failed."; v.Summary != want {
			t.Errorf("summary %q, want %q", v.Summary, want)
		}
		ivy := e.user(t, "ind@example.com")
		org, _ := ivy[schema.OrgURN].(map[string]any)
		roles, _ := ivy["roles"].([]any)
		if ivy["active"] != false || ivy["userType"] != "Individual" || org["startDate"] != "2024-01-31" || len(roles) != 1 || roles[0].(map[string]any)["value"] != "Nurse" {
			t.Errorf("ivy: %v", ivy)
		}
		if e.user(t, "fac@example.com") != nil {
			t.Error("an unticked row was created")
		}
		old := e.user(t, "old@example.com")
		if org, _ := old[schema.OrgURN].(map[string]any); org["startDate"] != "2025-02-01" || old["name"].(map[string]any)["givenName"] != "Old" {
			t.Errorf("matched by internal id, blanks keep values: %v", old)
		}
		if msgs := e.outbox(t); len(msgs) != 1 || msgs[0].To != "ind@example.com" {
			t.Errorf("outbox %+v", msgs)
		}

		// The export has the tenant's organisation fields as columns.
		x, err := e.jobs.Exporter().Prepare(t.Context(), partner, csvbridge.ExportRequest{Profile: csvbridge.ProfessionalUsersProfile().Name, Filter: `userName eq "ind@example.com"`})
		if err != nil {
			t.Fatal(err)
		}
		var exported bytes.Buffer
		if _, err := x.Write(t.Context(), &exported, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(exported.String(), "Mobile Phone Country,startDate,rate\r\n") || !strings.Contains(exported.String(), "2024-01-31,12.5") {
			t.Errorf("export:\n%q", exported.String())
		}
	})
}

func TestProfessionalUsersRowLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(template(t, csvbridge.ProfessionalUsersProfile()))
	for range 101 {
		b.WriteString(",1,a@example.com,A,B,X,,,\r\n")
	}
	im, err := csvbridge.Open(strings.NewReader(b.String()), csvbridge.ProfessionalUsersProfile(), schema.New(), csvbridge.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = im.Next()
	}
	if !strings.Contains(err.Error(), "100") {
		t.Fatalf("101 rows: %v", err)
	}
}

// TestJobs_SeedProfilesAsCustomProfiles: every seed profile, written as
// a custom profile's JSON, is accepted, and one of them imports exactly
// like the built-in (the custom JSON says everything the seeds need).
func TestJobs_SeedProfilesAsCustomProfiles(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		for _, p := range []*csvbridge.Profile{csvbridge.PeopleDirectoryProfile(), csvbridge.ContactCenterProfile(),
			csvbridge.TenantUsersProfile(), csvbridge.ProfessionalUsersProfile()} {
			name := "my-" + p.Name
			p.Name, p.Version = "", 0
			doc, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.jobs.PutProfile(t.Context(), partner, name, bytes.NewReader(doc))
			if err != nil || got.Version != 1 || got.Name != name {
				t.Fatalf("%s: %+v, %v", name, got, err)
			}
		}
		e.createUser(t, "admin", "Ada")
		v := e.commit(t, e.submit(t, "my-tenant-users", seed003).ID)
		if want := "Users Loaded successfully. 3 Added, 1 Updated, 0 Deleted, 4 Roles Added."; v.Summary != want || v.Profile != "my-tenant-users" || v.ProfileVersion != 1 {
			t.Fatalf("custom tenant-users: %q (%s v%d)", v.Summary, v.Profile, v.ProfileVersion)
		}
		if _, err := e.jobs.PutProfile(t.Context(), e.adminTier1(), "x", strings.NewReader(`{}`)); err == nil {
			t.Error("tier 1 stored a profile")
		}
	})
}

func (e *jobEnv) adminTier1() policy.Principal {
	p := partner
	p.Tier = policy.Tier1Operations
	return p
}

// columnByKey reads an exported file (BOM, CRLF) and maps each row's key
// column to its value column.
func columnByKey(t *testing.T, file, key, value string) map[string]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff"))).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("exported file: %v\n%s", err, file)
	}
	k, v := slices.Index(records[0], key), slices.Index(records[0], value)
	if k < 0 || v < 0 {
		t.Fatalf("exported header %v lacks %s or %s", records[0], key, value)
	}
	out := map[string]string{}
	for _, r := range records[1:] {
		out[r[k]] = r[v]
	}
	return out
}
