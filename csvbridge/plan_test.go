package csvbridge_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// seedActions creates the users TestPlanEachAction's file talks about.
func seedActions(t *testing.T, dir *directory.Service) map[string]*directory.Resource {
	out := map[string]*directory.Resource{}
	for _, u := range []map[string]any{
		{"userName": "alice", "title": "Engineer", "name": map[string]any{"givenName": "Alice"}},
		{"userName": "carol", "title": "Manager"},
		{"userName": "bob", "title": "Clerk"},
		{"userName": "erin", "active": false},
		{"userName": "dave"},
	} {
		out[u["userName"].(string)] = mustCreate(t, dir, u)
	}
	return out
}

const actionsFile = "userName,title,active,action\n" +
	"newbie,Dev,true,\n" + // 2 create
	"alice,Lead,,\n" + // 3 update: title only (givenName is not a column)
	"carol,Manager,,\n" + // 4 unchanged
	"bob,,,deactivate\n" + // 5 deactivate
	"erin,,,deactivate\n" + // 6 already inactive: unchanged
	"dave,,,delete\n" + // 7 delete
	"ghost,,,delete\n" + // 8 not found: skip
	"ghost2,,,deactivate\n" + // 9 not found: error
	"frank,,maybe,\n" // 10 invalid boolean: error

// TestPlanEachAction: each action of the preview, the dry run writing
// nothing (no user, version or audit event changes), the commit's
// outcomes, and re-planning the committed file finding nothing to do.
func TestPlanEachAction(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		users := seedActions(t, dir)
		before := snapshot(t, dir)
		plan := planFile(t, dir, admin, csvbridge.SCIMProfile(), actionsFile)
		if after := snapshot(t, dir); after != before {
			t.Fatalf("the preview wrote:\nbefore %s\nafter  %s", before, after)
		}
		wantActions(t, plan, "create update unchanged deactivate unchanged delete skip error error")
		if plan[0].Create["userName"] != "newbie" || plan[0].Create["title"] != "Dev" || plan[0].UserName != "newbie" {
			t.Errorf("create: %+v", plan[0].Create)
		}
		alice := plan[1]
		if alice.ResourceID != users["alice"].ID || alice.Version != `W/"1"` || patchOps(alice) != "replace title Lead" ||
			!reflect.DeepEqual(alice.Diff, []csvbridge.Change{{Path: "title", Old: "Engineer", New: "Lead"}}) {
			t.Errorf("update: %+v", alice)
		}
		if patchOps(plan[3]) != "replace active false" || plan[3].ResourceID != users["bob"].ID {
			t.Errorf("deactivate: %+v", plan[3])
		}
		if plan[5].ResourceID != users["dave"].ID || plan[5].Version != `W/"1"` {
			t.Errorf("delete: %+v", plan[5])
		}
		hasIssue(t, plan[6], csvbridge.CodeNotFound, csvbridge.SeverityWarning)
		hasIssue(t, plan[7], csvbridge.CodeNotFound, csvbridge.SeverityError)
		hasIssue(t, plan[8], csvbridge.CodeInvalidBoolean, csvbridge.SeverityError)

		out := commit(t, dir, admin, plan)
		for i, o := range out {
			wantOK := i < 7
			if (o.Status == csvbridge.StatusSucceeded) != wantOK || o.Action != "" {
				t.Errorf("row %d: outcome %+v", plan[i].Number, o)
			}
		}
		if out[8].ErrorCode != csvbridge.CodeInvalidBoolean || out[7].ErrorCode != csvbridge.CodeNotFound {
			t.Errorf("error outcomes %+v %+v", out[7], out[8])
		}
		if d := userDoc(t, dir, out[0].ResourceID); d["userName"] != "newbie" || d["active"] != true {
			t.Errorf("created %v", d)
		}
		if d := userDoc(t, dir, users["alice"].ID); d["title"] != "Lead" || d["name"].(map[string]any)["givenName"] != "Alice" {
			t.Errorf("alice after the commit: %v (a PATCH merge keeps what the row leaves out)", d)
		}
		if d := userDoc(t, dir, users["bob"].ID); d["active"] != false || d["title"] != "Clerk" {
			t.Errorf("bob after the commit: %v", d)
		}
		if _, err := dir.GetUser(context.Background(), admin, users["dave"].ID); err == nil {
			t.Error("dave was not deleted")
		}
		again := planFile(t, dir, admin, csvbridge.SCIMProfile(), actionsFile)
		wantActions(t, again, "unchanged unchanged unchanged unchanged unchanged skip skip error error")
	})
}

// TestPlanFields: value paths (the work email replaced in place, never
// duplicated), multi-valued merge add and replace, the clear token,
// extension attributes, blank cells keeping values.
func TestPlanFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		emails := []any{
			map[string]any{"value": "old@example.com", "type": "work", "primary": true},
			map[string]any{"value": "home@example.com", "type": "home"},
		}
		ext := map[string]any{"department": "Sales", "costCenter": "42"}
		u1 := mustCreate(t, dir, map[string]any{"userName": "u1", "title": "T", "emails": emails,
			"roles": []any{map[string]any{"value": "a", "display": "Role A"}}, schema.EnterpriseURN: ext})
		u2 := mustCreate(t, dir, map[string]any{"userName": "u2", "roles": []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}}})
		prof := csvbridge.SCIMProfile()
		prof.Columns = []csvbridge.Column{{Header: "entitlements.value", Paths: []string{"entitlements.value"},
			Multi: &csvbridge.MultiValue{Separator: "|", Merge: csvbridge.MergeReplace}}}
		file := `userName,emails[type eq "work"].value,roles.value,entitlements.value,` + enterpriseURN + "department,title\n" +
			"u1,new@example.com,a|b,x|y,#clear,\n" +
			"u2,u2@example.com,b,,,\n"
		plan := planFile(t, dir, admin, prof, file)
		wantActions(t, plan, "update update")
		want := `replace emails[type eq "work"].value new@example.com; add roles [map[value:b]]; replace entitlements [map[value:x] map[value:y]]; remove ` +
			enterpriseURN + "department <nil>"
		if got := patchOps(plan[0]); got != want {
			t.Errorf("u1 patch\n got %s\nwant %s", got, want)
		}
		if got := patchOps(plan[1]); got != `replace emails[type eq "work"].value u2@example.com` {
			t.Errorf("u2 patch: %s (roles b is present already)", got)
		}
		commit(t, dir, admin, plan)
		d := userDoc(t, dir, u1.ID)
		if got := fmt.Sprint(d["emails"]); got != "[map[primary:true type:work value:new@example.com] map[type:home value:home@example.com]]" {
			t.Errorf("u1 emails %s", got)
		}
		if got := fmt.Sprint(d["roles"]); got != "[map[display:Role A value:a] map[value:b]]" {
			t.Errorf("u1 roles %s", got)
		}
		if got := fmt.Sprint(d[schema.EnterpriseURN]); got != "map[costCenter:42]" || d["title"] != "T" {
			t.Errorf("u1 enterprise %s, title %v", got, d["title"])
		}
		if got := fmt.Sprint(userDoc(t, dir, u2.ID)["emails"]); got != "[map[type:work value:u2@example.com]]" {
			t.Errorf("u2 emails %s", got)
		}
		wantActions(t, planFile(t, dir, admin, prof, file), "unchanged unchanged")

		replace := "userName,entitlements.value\nu1,y|z\nu2,#clear\n"
		plan = planFile(t, dir, admin, prof, replace)
		wantActions(t, plan, "update unchanged")
		commit(t, dir, admin, plan)
		if got := fmt.Sprint(userDoc(t, dir, u1.ID)["entitlements"]); got != "[map[value:y] map[value:z]]" {
			t.Errorf("entitlements after replace: %s", got)
		}
	})
}

// TestPlanMatching: users found by email and by externalId, a row whose
// keys find two different users, an unknown id, and a create without a
// userName.
func TestPlanMatching(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		a := mustCreate(t, dir, map[string]any{"userName": "a", "externalId": "ext-a", "emails": []any{map[string]any{"value": "a@example.com", "type": "work"}}})
		b := mustCreate(t, dir, map[string]any{"userName": "b", "externalId": "ext-b"})
		byEmail := planFile(t, dir, admin, csvbridge.SCIMProfile(), "emails[type eq \"work\"].value,title\nA@Example.com,Boss\nnew@example.com,X\n")
		wantActions(t, byEmail, "update error")
		if byEmail[0].ResourceID != a.ID {
			t.Errorf("email matched %s", byEmail[0].ResourceID)
		}
		if is := hasIssue(t, byEmail[1], csvbridge.CodeRequired, csvbridge.SeverityError); is.Column != "userName" {
			t.Errorf("create without userName: %+v", is)
		}
		byExt := planFile(t, dir, admin, csvbridge.SCIMProfile(), "externalId,title\next-b,Boss\n")
		wantActions(t, byExt, "update")
		if byExt[0].ResourceID != b.ID {
			t.Errorf("externalId matched %s", byExt[0].ResourceID)
		}
		conflict := planFile(t, dir, admin, csvbridge.SCIMProfile(),
			"userName,externalId,title\nb,ext-a,X\na,ext-new,Z\n")
		wantActions(t, conflict, "error update")
		if is := hasIssue(t, conflict[0], csvbridge.CodeMatchConflict, csvbridge.SeverityError); is.Column != "externalId" {
			t.Errorf("conflict issue %+v", is)
		}
		if got := patchOps(conflict[1]); got != "replace externalId ext-new; replace title Z" {
			t.Errorf("a key that finds nobody is a change: %s", got)
		}
		byID := planFile(t, dir, admin, csvbridge.SCIMProfile(), "id,title\n"+b.ID+",Boss\n00000000-0000-4000-8000-000000000000,X\n")
		wantActions(t, byID, "update error")
		hasIssue(t, byID[1], csvbridge.CodeNotFound, csvbridge.SeverityError)
	})
}

// TestPlanUniqueAcrossBatches: a userName the file gives in one batch
// cannot be given again in a later batch, and one an earlier batch frees
// (a rename) may be taken. The rows are mapped without the Validator, so
// the planner's own check is what catches the duplicate.
func TestPlanUniqueAcrossBatches(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		mustCreate(t, dir, map[string]any{"userName": "old", "externalId": "e1"})
		mustCreate(t, dir, map[string]any{"userName": "taken", "externalId": "e0"})
		prof := csvbridge.SCIMProfile()
		prof.MatchKeys = []csvbridge.MatchKey{csvbridge.MatchExternalID}
		m, err := csvbridge.Bind(prof, dir.Registry(), []string{"externalId", "userName"})
		if err != nil {
			t.Fatal(err)
		}
		pl := csvbridge.NewPlanner(dir, admin, m)
		batch := func(first int, cells ...[]string) []csvbridge.Planned {
			var rows []csvbridge.Row
			for i, c := range cells {
				rows = append(rows, m.Map(csvbridge.RawRow{Number: first + i, Line: first + i, Cells: c}))
			}
			out, err := pl.Plan(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		wantActions(t, batch(2, []string{"e1", "new"}, []string{"e2", "fresh"}), "update create")
		second := batch(4, []string{"e3", "NEW"}, []string{"e4", "Fresh"}, []string{"e5", "old"}, []string{"e6", "taken"})
		wantActions(t, second, "error error create error")
		if is := hasIssue(t, second[1], csvbridge.CodeDuplicateInFile, csvbridge.SeverityError); !strings.Contains(is.Message, "Row 3") {
			t.Errorf("duplicate issue %+v", is)
		}
		if is := hasIssue(t, second[3], csvbridge.CodeConflict, csvbridge.SeverityError); is.Column != "userName" {
			t.Errorf("store conflict issue %+v", is)
		}
	})
}

// TestPlanTiers: under support-tiers a tier-1 admin may create tier-0 and
// tier-1 users, but not import a tier-2 user, new or existing, changed
// or not.
func TestPlanTiers(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		tier2 := map[string]any{"tier": policy.Tier2SoftwarePartner.String()}
		mustCreate(t, dir, map[string]any{"userName": "t2@example.com", "name": map[string]any{"givenName": "T", "familyName": "Two"},
			"emails": []any{map[string]any{"value": "t2@example.com", "type": "work", "primary": true}}, schema.SupportURN: tier2})
		mustCreate(t, dir, map[string]any{"userName": "t2b@example.com", "name": map[string]any{"givenName": "T", "familyName": "Two"},
			"emails": []any{map[string]any{"value": "t2b@example.com", "type": "work", "primary": true}}, schema.SupportURN: tier2})
		lead := policy.Principal{Tenant: admin.Tenant, Subject: "lead", Kind: policy.KindPerson, Tier: policy.Tier1Operations}
		file := "first_name,last_name,email,tier\n" +
			"New,Two,n2@example.com,support-tier-2-software-partner\n" +
			"Changed,Two,t2@example.com,support-tier-2-software-partner\n" +
			"T,Two,t2b@example.com,support-tier-2-software-partner\n" +
			"New,Zero,n0@example.com,support-tier-0-help-desk\n" +
			"New,One,n1@example.com,support-tier-1-operations\n"
		plan := planFile(t, dir, lead, csvbridge.SupportTiersProfile(), file)
		wantActions(t, plan, "error error error create create")
		for _, r := range plan[:3] {
			hasIssue(t, r, csvbridge.CodeForbidden, csvbridge.SeverityError)
		}
		out := commit(t, dir, lead, plan)
		created := userDoc(t, dir, out[4].ResourceID)
		if created["userName"] != "n1@example.com" || fmt.Sprint(created["emails"]) != "[map[primary:true type:work value:n1@example.com]]" {
			t.Errorf("created %v", created)
		}
		wantActions(t, planFile(t, dir, admin, csvbridge.SupportTiersProfile(), file), "create update unchanged unchanged unchanged")
	})
}

// TestCommitStale: a user changed between the preview and the commit is
// not overwritten: the row fails with stale_preview; a userName taken
// meanwhile fails with conflict; the other rows apply.
func TestCommitStale(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		ctx := context.Background()
		a := mustCreate(t, dir, map[string]any{"userName": "a", "title": "T"})
		b := mustCreate(t, dir, map[string]any{"userName": "b", "title": "T"})
		plan := planFile(t, dir, admin, csvbridge.SCIMProfile(), "userName,title\na,New\nb,New\nc,New\n")
		wantActions(t, plan, "update update create")
		if _, err := dir.PatchUser(ctx, admin, a.ID, []directory.PatchOp{{Op: "replace", Path: "displayName", Value: "Changed"}}, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, dir, map[string]any{"userName": "C"})
		out := commit(t, dir, admin, plan)
		if o := out[0]; o.Status != csvbridge.StatusFailed || o.ErrorCode != csvbridge.CodeStalePreview || !strings.Contains(o.Error, "Upload the file again") {
			t.Errorf("stale row: %+v", o)
		}
		if o := out[1]; o.Status != csvbridge.StatusSucceeded || o.ResourceID != b.ID {
			t.Errorf("fresh row: %+v", o)
		}
		if o := out[2]; o.Status != csvbridge.StatusFailed || o.ErrorCode != csvbridge.CodeConflict || !strings.Contains(o.Error, "already in use") {
			t.Errorf("taken userName: %+v", o)
		}
		if d := userDoc(t, dir, a.ID); d["title"] != "T" || d["displayName"] != "Changed" {
			t.Errorf("the stale row wrote: %v", d)
		}
	})
}

// TestReconcile: rows a worker applied before it died are recognised as
// done, the others are to be applied again; after applying them, every
// row is done.
func TestReconcile(t *testing.T) {
	forEachStore(t, func(t *testing.T, dir *directory.Service) {
		ctx := context.Background()
		users := map[string]*directory.Resource{}
		for _, n := range []string{"u1", "u2", "d1", "x1", "x2", "y1"} {
			users[n] = mustCreate(t, dir, map[string]any{"userName": n})
		}
		file := "userName,title,action\n" +
			"c1,T,\nu1,T,\nx1,,deactivate\nd1,,delete\n" + // applied before the crash
			"c2,T,\nu2,T,\nx2,,deactivate\ny1,,delete\n" + // not applied
			"u1,,\n" // unchanged... but a duplicate: an error row
		plan := planFile(t, dir, admin, csvbridge.SCIMProfile(), file)
		wantActions(t, plan, "create update deactivate delete create update deactivate delete error")
		commit(t, dir, admin, plan[:4])
		outcomes, done, err := csvbridge.Reconcile(ctx, dir, admin, plan)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(done); got != "[true true true true false false false false true]" {
			t.Fatalf("done %s", got)
		}
		for i, o := range outcomes[:4] {
			if o.Status != csvbridge.StatusSucceeded || o.ResourceID == "" {
				t.Errorf("row %d: %+v", plan[i].Number, o)
			}
		}
		if outcomes[8].Status != csvbridge.StatusFailed || outcomes[8].ErrorCode != csvbridge.CodeDuplicateInFile {
			t.Errorf("error row: %+v", outcomes[8])
		}
		c1, err := dir.UsersByKeys(ctx, admin, "userName", []string{"c1"}, directory.Lookup{})
		if err != nil || len(c1) != 1 || outcomes[0].ResourceID != c1[0].ID {
			t.Errorf("create outcome %+v, user %v %v", outcomes[0], c1, err)
		}
		commit(t, dir, admin, plan[4:8])
		_, done, err = csvbridge.Reconcile(ctx, dir, admin, plan)
		if err != nil || fmt.Sprint(done) != "[true true true true true true true true true]" {
			t.Fatalf("after the rest: done %v, %v", done, err)
		}
	})
}
