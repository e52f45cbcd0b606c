package csvbridge_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

var setup = policy.Principal{Tenant: store.DefaultTenant, Subject: "setup", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}

// applyUsers creates users through the directory's streaming apply (set
// based): body(i) is user i's resource.
func applyUsers(t testing.TB, dir *directory.Service, n int, body func(i int) map[string]any) {
	t.Helper()
	ops := func(yield func(directory.Operation) bool) {
		for i := range n {
			if !yield(directory.Operation{Kind: directory.OpCreate, Type: dir.Registry().User, BulkID: fmt.Sprint("u", i), Data: body(i)}) {
				return
			}
		}
	}
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: 1000}
	var failed error
	err := dir.Apply(t.Context(), setup, opts, iter.Seq[directory.Operation](ops), func(res directory.BulkResult) bool {
		if res.Err != nil && failed == nil {
			failed = res.Err
		}
		return true
	})
	if err != nil || failed != nil {
		t.Fatalf("load users: %v %v", err, failed)
	}
}

// agent is a user body: tier 3 when high, holding the role when given.
func agent(name string, high bool, role string) map[string]any {
	u := map[string]any{"schemas": []any{schema.UserURN, schema.SupportURN}, "userName": name,
		schema.SupportURN: map[string]any{"tier": "support-tier-1-operations"}}
	if high {
		u[schema.SupportURN] = map[string]any{"tier": "support-tier-3-engineering"}
	}
	if role != "" {
		u["roles"] = []any{map[string]any{"value": role}}
	}
	return u
}

// runAction submits an action as p, runs the preview and returns it.
func (e *jobEnv) runAction(t testing.TB, p policy.Principal, req csvbridge.ActionRequest) csvbridge.View {
	t.Helper()
	job, err := e.jobs.SubmitAction(t.Context(), p, req)
	if err != nil {
		t.Fatalf("submit action: %v", err)
	}
	e.drain(t)
	v, err := e.jobs.Get(t.Context(), p, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != csvbridge.KindAction || v.State != store.JobValidated {
		t.Fatalf("action preview: %+v", v)
	}
	return v
}

func (e *jobEnv) commitAs(t testing.TB, p policy.Principal, id string, exclude ...int) csvbridge.View {
	t.Helper()
	if _, err := e.jobs.Commit(t.Context(), p, id, exclude); err != nil {
		t.Fatalf("commit: %v", err)
	}
	e.drain(t)
	v, err := e.jobs.Get(t.Context(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sameCounts compares the preview's and the outcome's counts of the
// given names.
func sameCounts(t testing.TB, preview, done map[string]int, names ...string) {
	t.Helper()
	for _, n := range names {
		if preview[n] != done[n] {
			t.Errorf("%s: preview %d, commit %d (preview %v, commit %v)", n, preview[n], done[n], preview, done)
		}
	}
}

// TestActionAssignRoleAtScale: seed 002's "assign role" over 10,000
// users (2,000 under -race), one in a thousand above the caller's tier
// and one in two thousand already holding the role: the preview says what
// each gets, the commit does exactly that, the higher users are row
// errors and untouched, and the report lists every row.
func TestActionAssignRoleAtScale(t *testing.T) {
	n := 10_000
	if raceEnabled {
		n = 2_000
	}
	high, holders := n/1000, n/2000
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t), csvbridge.WithChunk(1000))
		applyUsers(t, e.dir, n, func(i int) map[string]any {
			role := ""
			if i%2000 == 1 {
				role = "Coordinator"
			}
			return agent(fmt.Sprintf("agent%05d@example.com", i), i%1000 == 7, role)
		})
		v := e.runAction(t, e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-role", Value: "Coordinator"})
		update := n - high - holders
		want := map[string]int{"total": n, "update": update, "unchanged": holders, "error": high}
		sameCounts(t, want, v.Counts, "total", "update", "unchanged", "error")
		if s := fmt.Sprintf("Preview: %d users selected: %d to update, 0 to deactivate, %d unchanged, %d with errors.", n, update, holders, high); v.Summary != s {
			t.Errorf("preview summary %q, want %q", v.Summary, s)
		}
		done := e.commitAs(t, e.admin, v.ID)
		if s := fmt.Sprintf("Action applied: %d updated, %d failed. %d unchanged.", update, high, holders); done.State != store.JobCompletedWithErrors || done.Summary != s {
			t.Fatalf("after commit: %s %q, want %q", done.State, done.Summary, s)
		}
		sameCounts(t, v.Counts, done.Counts, "total", "update", "unchanged", "error")
		rows, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Status: "failed", Limit: 100})
		if err != nil || len(rows) != high {
			t.Fatalf("failed rows: %d, %v", len(rows), err)
		}
		for _, r := range rows {
			if r.ErrorCode != csvbridge.CodeForbidden {
				t.Errorf("row %d: %s %s", r.Row, r.ErrorCode, r.Error)
			}
			doc := userDoc(t, e.dir, r.ID)
			if _, has := doc["roles"]; has {
				t.Errorf("user above the caller's tier %s was touched: %v", r.UserName, doc["roles"])
			}
		}
		if got := usersWithRole(t, e, "Coordinator"); got != n-high {
			t.Fatalf("%d users hold the role, want %d", got, n-high)
		}
		var report strings.Builder
		if err := e.jobs.Report(t.Context(), e.admin, v.ID, false, &report); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(report.String())).ReadAll()
		if err != nil || len(recs) != n+1 || strings.Join(recs[0], ",") != "id,userName,_row,_action,_status,_id,_error_code,_error" {
			t.Fatalf("report: %d records, %v, header %v", len(recs), err, recs[0])
		}
		events, err := e.dir.AuditEvents(t.Context(), setup, store.AuditQuery{Limit: 5, ResourceID: rows[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Action == "patch" {
				t.Errorf("a refused user has a patch event: %+v", ev)
			}
		}
	})
}

// usersWithRole walks every user (keyset pages) and counts the holders of
// the role.
func usersWithRole(t *testing.T, e *jobEnv, role string) int {
	t.Helper()
	holders := 0
	_, err := e.dir.SelectUsers(t.Context(), setup, "", 1000, func(r *directory.Resource) error {
		doc, err := r.Document()
		for _, el := range asAnyList(doc["roles"]) {
			if m, _ := el.(map[string]any); m["value"] == role {
				holders++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return holders
}

func checkAuditSource(t *testing.T, e *jobEnv, id string) {
	t.Helper()
	events, err := e.dir.AuditEvents(t.Context(), setup, store.AuditQuery{Limit: 10, ResourceID: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == "patch" && ev.Source == directory.SourceCSV {
			return
		}
	}
	t.Errorf("no csv patch event for %s: %+v", id, events)
}

// TestActionOperations runs every operation on a small set: ann (active,
// role Admin, member of Support), bob (inactive), cy (tier 3): the preview
// and the commit agree, users already in the target state are unchanged,
// cy is refused.
func TestActionOperations(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ann := mustCreateAs(t, e.dir, agent("ann@example.com", false, "Admin"))
		bob := agent("bob@example.com", false, "")
		bob["active"] = false
		bobR := mustCreateAs(t, e.dir, bob)
		cy := mustCreateAs(t, e.dir, agent("cy@example.com", true, "Admin"))
		g, err := e.dir.CreateGroup(t.Context(), setup, map[string]any{"displayName": "Support", "members": []any{map[string]any{"value": ann.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		partner := e.admin
		partner.Tier = policy.Tier2SoftwarePartner
		filter := `userName ew "@example.com"`
		steps := []struct {
			p       policy.Principal
			req     csvbridge.ActionRequest
			actions string // ann bob cy
		}{
			{e.admin, csvbridge.ActionRequest{Filter: filter, Operation: "remove-role", Value: "admin"}, "update unchanged error"},
			{e.admin, csvbridge.ActionRequest{Filter: filter, Operation: "deactivate"}, "deactivate unchanged error"},
			{e.admin, csvbridge.ActionRequest{Filter: filter, Operation: "reactivate"}, "update update error"},
			{partner, csvbridge.ActionRequest{Filter: filter, Operation: "add-group", Value: "Support"}, "unchanged update error"},
			{partner, csvbridge.ActionRequest{Filter: filter, Operation: "remove-group", Value: g.ID}, "update update error"},
			{e.admin, csvbridge.ActionRequest{Filter: filter, Operation: "add-role", Value: "Agent"}, "update update error"},
		}
		for _, s := range steps {
			v := e.runAction(t, s.p, s.req)
			if got := rowActions(t, e, s.p, v.ID); got != s.actions {
				t.Fatalf("%s: preview %q, want %q", s.req.Operation, got, s.actions)
			}
			done := e.commitAs(t, s.p, v.ID)
			sameCounts(t, v.Counts, done.Counts, "total", "update", "deactivate", "unchanged", "error")
			if got := rowActions(t, e, s.p, v.ID); got != s.actions {
				t.Fatalf("%s: outcome %q, want %q", s.req.Operation, got, s.actions)
			}
		}
		doc := userDoc(t, e.dir, ann.ID)
		if doc["active"] != true || !strings.Contains(fmt.Sprint(doc["roles"]), "Agent") || strings.Contains(fmt.Sprint(doc["roles"]), "Admin") {
			t.Errorf("ann after the steps: %v", doc)
		}
		if d := userDoc(t, e.dir, cy.ID); !strings.Contains(fmt.Sprint(d["roles"]), "Admin") {
			t.Errorf("cy was touched: %v", d)
		}
		members, err := e.dir.GetGroup(t.Context(), setup, g.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if md, _ := members.Document(); len(asAnyList(md["members"])) != 0 {
			t.Errorf("members after remove-group: %v", md["members"])
		}
		checkAuditSource(t, e, bobR.ID)
	})
}

func asAnyList(v any) []any { l, _ := v.([]any); return l }

func mustCreateAs(t *testing.T, dir *directory.Service, body map[string]any) *directory.Resource {
	t.Helper()
	r, err := dir.CreateUser(t.Context(), setup, body)
	if err != nil {
		t.Fatalf("create %v: %v", body["userName"], err)
	}
	return r
}

// rowActions lists the job's row actions by userName order (ann bob cy).
func rowActions(t *testing.T, e *jobEnv, p policy.Principal, id string) string {
	t.Helper()
	rows, _, err := e.jobs.Rows(t.Context(), p, id, csvbridge.RowQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, r := range rows {
		by[r.UserName] = r.Action
	}
	return by["ann@example.com"] + " " + by["bob@example.com"] + " " + by["cy@example.com"]
}

// TestActionExclusionsAndRefusals: excluded rows are not applied; bad
// requests are 400 with the SCIM scimType, callers below the tier 403.
func TestActionExclusionsAndRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ann := mustCreateAs(t, e.dir, agent("ann@example.com", false, ""))
		mustCreateAs(t, e.dir, agent("bob@example.com", false, ""))
		v := e.runAction(t, e.admin, csvbridge.ActionRequest{Preset: "active", Operation: "deactivate"})
		rows, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Limit: 10})
		if err != nil || len(rows) != 2 {
			t.Fatal(rows, err)
		}
		skip := rows[0].Row
		if rows[0].ID != ann.ID {
			skip = rows[1].Row
		}
		done := e.commitAs(t, e.admin, v.ID, skip)
		if done.Counts["deactivate"] != 1 || done.Counts["excluded"] != 1 {
			t.Fatalf("counts %v", done.Counts)
		}
		if userDoc(t, e.dir, ann.ID)["active"] != true {
			t.Error("an excluded user was deactivated")
		}
		bad := []struct {
			p    policy.Principal
			req  csvbridge.ActionRequest
			want int
			typ  scimerrors.ScimType
		}{
			{e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "promote"}, http.StatusBadRequest, "invalidValue"},
			{e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-role"}, http.StatusBadRequest, "invalidValue"},
			{e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "deactivate", Value: "x"}, http.StatusBadRequest, "invalidValue"},
			{e.admin, csvbridge.ActionRequest{Operation: "deactivate"}, http.StatusBadRequest, "invalidFilter"},
			{e.admin, csvbridge.ActionRequest{Filter: "nosuch eq 1", Operation: "deactivate"}, http.StatusBadRequest, "invalidFilter"},
			{e.admin, csvbridge.ActionRequest{Preset: "tier=9", Operation: "deactivate"}, http.StatusBadRequest, "invalidFilter"},
			{e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-group", Value: "Support"}, http.StatusForbidden, ""},
			{setup, csvbridge.ActionRequest{Preset: "all", Operation: "add-group", Value: "Nope"}, http.StatusBadRequest, "invalidValue"},
			{policy.Principal{Tenant: store.DefaultTenant, Subject: "desk", Kind: policy.KindProvisioner, Tier: policy.Tier0HelpDesk},
				csvbridge.ActionRequest{Preset: "all", Operation: "deactivate"}, http.StatusForbidden, ""},
		}
		for _, b := range bad {
			_, err := e.jobs.SubmitAction(t.Context(), b.p, b.req)
			var se scimerrors.ScimError
			if !errors.As(err, &se) || se.Status != b.want || se.ScimType != b.typ || se.Detail == "" {
				t.Errorf("%+v: got %v", b.req, err)
			}
		}
	})
}

// TestActionRoleCatalogue: once a tenant keeps a role catalogue, add-role
// assigns only its roles (in the catalogue's spelling) and names the
// known ones when refusing; remove-role takes any role.
func TestActionRoleCatalogue(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ann := mustCreateAs(t, e.dir, agent("ann@example.com", false, ""))
		// No catalogue: any role.
		e.commitAs(t, e.admin, e.runAction(t, e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-role", Value: "Legacy"}).ID)
		e.settings(t, func(ts *directory.TenantSettings) { ts.Roles = []string{"Agent", "Supervisor"} })
		_, err := e.jobs.SubmitAction(t.Context(), e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-role", Value: "Manager"})
		var se scimerrors.ScimError
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest || !strings.Contains(se.Detail, `Role "Manager" does not exist`) || !strings.Contains(se.Detail, "Agent, Supervisor") {
			t.Errorf("a role outside the catalogue: %v", err)
		}
		e.commitAs(t, e.admin, e.runAction(t, e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "add-role", Value: "supervisor"}).ID)
		e.commitAs(t, e.admin, e.runAction(t, e.admin, csvbridge.ActionRequest{Preset: "all", Operation: "remove-role", Value: "Legacy"}).ID)
		roles, _ := userDoc(t, e.dir, ann.ID)["roles"].([]any)
		if len(roles) != 1 || roles[0].(map[string]any)["value"] != "Supervisor" {
			t.Errorf("roles %v, want the catalogue's Supervisor alone", roles)
		}
	})
}

// TestActionResumeAfterCrash: a worker applies the first rows of an
// action's commit and dies before recording them; the worker that takes
// the job over settles them (a role row by the user's version, a
// membership row by applying it again, which changes nothing) and ends
// with exact counts.
func TestActionResumeAfterCrash(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		e := newJobEnv(t, st)
		e.admin.Tier = policy.Tier2SoftwarePartner
		applyUsers(t, e.dir, 9, func(i int) map[string]any { return agent(fmt.Sprintf("r%d@example.com", i), false, "") })
		g, err := e.dir.CreateGroup(t.Context(), setup, map[string]any{"displayName": "Night shift"})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []csvbridge.ActionRequest{
			{Preset: "all", Operation: "add-role", Value: "Night"},
			{Preset: "all", Operation: "add-group", Value: "Night shift"},
		} {
			v := e.runAction(t, e.admin, req)
			if _, err := e.jobs.Commit(t.Context(), e.admin, v.ID, nil); err != nil {
				t.Fatal(err)
			}
			crashApplyingFirstRows(t, e, v.ID, 3)
			takeover := newJobEnv(t, st, csvbridge.WithJobClock(func() time.Time { return time.Now().Add(10 * time.Minute) }))
			takeover.drain(t)
			got, err := takeover.jobs.Get(t.Context(), e.admin, v.ID)
			if err != nil || got.State != store.JobCompleted || got.Counts["update"] != 9 || got.Counts["error"] != 0 || got.Counts["total"] != 9 {
				t.Fatalf("%s after resume: %+v %v", req.Operation, got, err)
			}
		}
		members, err := e.dir.GetGroup(t.Context(), setup, g.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if md, _ := members.Document(); len(asAnyList(md["members"])) != 9 {
			t.Fatalf("members after resume: %v", md["members"])
		}
		list, err := e.dir.ListUsers(t.Context(), setup, directory.ListQuery{Filter: `roles.value eq "Night"`, Count: 0})
		if err != nil || list.Total != 9 {
			t.Fatalf("users with the role: %v %v", list, err)
		}
	})
}
