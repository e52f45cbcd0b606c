package csvbridge_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// jobEnv is a job service over a real store, with no background worker:
// tests drive it with RunOnce.
type jobEnv struct {
	st   store.Store
	dir  *directory.Service
	jobs *csvbridge.Jobs
	// admin is a tier-1 person-less script of the default tenant.
	admin policy.Principal
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func eachBackend(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open)
		})
	}
}

func newJobEnv(t testing.TB, st store.Store, opts ...csvbridge.JobsOption) *jobEnv {
	t.Helper()
	dir := directory.New(st, schema.New(), directory.WithLogger(quiet))
	opts = append([]csvbridge.JobsOption{csvbridge.WithChunk(2), csvbridge.WithJobLogger(quiet)}, opts...)
	return &jobEnv{st: st, dir: dir, jobs: csvbridge.NewJobs(dir, st, opts...),
		admin: policy.Principal{Tenant: store.DefaultTenant, Subject: "ops-script", Kind: policy.KindProvisioner, Tier: policy.Tier1Operations}}
}

// drain runs the worker until no job is left to claim.
func (e *jobEnv) drain(t testing.TB) {
	t.Helper()
	for range 100 {
		worked, err := e.jobs.RunOnce(t.Context())
		if err != nil {
			t.Fatalf("worker: %v", err)
		}
		if !worked {
			return
		}
	}
	t.Fatal("the worker never ran out of jobs")
}

func (e *jobEnv) submit(t testing.TB, profile, body string) csvbridge.View {
	t.Helper()
	job, err := e.jobs.Submit(t.Context(), e.admin, profile, "users.csv", []byte(body))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	e.drain(t)
	v, err := e.jobs.Get(t.Context(), e.admin, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *jobEnv) commit(t testing.TB, id string, exclude ...int) csvbridge.View {
	t.Helper()
	if _, err := e.jobs.Commit(t.Context(), e.admin, id, exclude); err != nil {
		t.Fatalf("commit: %v", err)
	}
	e.drain(t)
	v, err := e.jobs.Get(t.Context(), e.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// createUser creates a user directly through the service.
func (e *jobEnv) createUser(t *testing.T, userName, given string) *directory.Resource {
	t.Helper()
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "setup", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
	r, err := e.dir.CreateUser(t.Context(), p, map[string]any{
		"schemas":  []any{schema.UserURN},
		"userName": userName, "name": map[string]any{"givenName": given, "familyName": "Existing"},
		"emails": []any{map[string]any{"type": "work", "value": userName}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", userName, err)
	}
	return r
}

func (e *jobEnv) userCount(t *testing.T) int {
	t.Helper()
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "check", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
	l, err := e.dir.ListUsers(t.Context(), p, directory.ListQuery{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return l.Total
}

func wantCounts(t *testing.T, v csvbridge.View, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if v.Counts[k] != n {
			t.Errorf("count %s = %d, want %d (counts %v; summary %q)", k, v.Counts[k], n, v.Counts, v.Summary)
		}
	}
}

func wantState(t *testing.T, v csvbridge.View, want store.JobState) {
	t.Helper()
	if v.State != want {
		t.Fatalf("state %s, want %s (summary %q)", v.State, want, v.Summary)
	}
}

const scimFile = "userName,name.givenName,name.familyName,emails[type eq \"work\"].value\n" +
	"ann@example.com,Ann,Lee,ann@example.com\n" +
	"bob@example.com,Bob,Kay,bob@example.com\n" +
	"carl@example.com,Carl,Moe,carl@example.com\n" +
	"dora@example.com,Dorothea,Existing,dora@example.com\n" +
	"eve@example.com,Eve,Ng,not-an-email\n"

func TestJobs_PreviewCommitReport(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.createUser(t, "dora@example.com", "Dora")

		v := e.submit(t, csvbridge.ProfileSCIM, scimFile)
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"total": 5, "create": 3, "update": 1, "error": 1, "unchanged": 0})
		if e.userCount(t) != 1 {
			t.Fatal("the preview wrote users")
		}
		if v.File == nil || len(v.File.Columns) != 4 || v.File.Columns[3].Paths[0] != `emails[type eq "work"].value` {
			t.Errorf("header mapping not shown: %+v", v.File)
		}
		updates, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Action: "update"})
		if err != nil || len(updates) != 1 || updates[0].Row != 5 || len(updates[0].Diff) != 1 || updates[0].Diff[0].New != "Dorothea" {
			t.Fatalf("update row and its diff: %+v, %v", updates, err)
		}
		failed, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Status: "failed"})
		if err != nil || len(failed) != 1 || failed[0].Row != 6 || failed[0].ErrorCode != "invalid_email" || !strings.HasPrefix(failed[0].Error, `emails[type eq "work"].value: `) {
			t.Fatalf("error row: %+v, %v", failed, err)
		}

		v = e.commit(t, v.ID)
		wantState(t, v, store.JobCompletedWithErrors)
		wantCounts(t, v, map[string]int{"total": 5, "create": 3, "update": 1, "error": 1})
		if want := "Users loaded: 3 added, 1 updated, 0 deleted, 1 failed."; v.Summary != want {
			t.Errorf("summary %q, want %q", v.Summary, want)
		}
		if e.userCount(t) != 4 {
			t.Errorf("%d users after commit, want 4", e.userCount(t))
		}

		var report bytes.Buffer
		if err := e.jobs.Report(t.Context(), e.admin, v.ID, true, &report); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(report.Bytes())).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("failed-rows report: %v %q", err, recs)
		}
		if got := strings.Join(recs[0], ","); got != `userName,name.givenName,name.familyName,emails[type eq "work"].value,_row,_action,_status,_id,_error_code,_error` {
			t.Errorf("report header %q", got)
		}
		if recs[1][0] != "eve@example.com" || recs[1][4] != "6" || recs[1][6] != "failed" || recs[1][5] != "error" || recs[1][9] == "" {
			t.Errorf("report row %q", recs[1])
		}

		// The same file again: every valid row is unchanged and nothing is written.
		again := e.submit(t, csvbridge.ProfileSCIM, scimFile)
		wantCounts(t, again, map[string]int{"total": 5, "create": 0, "update": 0, "unchanged": 4, "error": 1})
		again = e.commit(t, again.ID)
		wantCounts(t, again, map[string]int{"create": 0, "update": 0, "unchanged": 4, "error": 1})
		if e.userCount(t) != 4 {
			t.Errorf("re-import changed the user count to %d", e.userCount(t))
		}

		// The failed-rows report, fixed, imports as a file of its own.
		fixed := strings.Replace(report.String(), "not-an-email", "eve@example.com", 1)
		third := e.submit(t, csvbridge.ProfileSCIM, fixed)
		wantCounts(t, third, map[string]int{"total": 1, "create": 1, "error": 0})
	})
}

func TestJobs_StalePreview(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		u := e.createUser(t, "dora@example.com", "Dora")
		v := e.submit(t, csvbridge.ProfileSCIM, "userName,name.givenName\ndora@example.com,Dorothea\n")
		wantCounts(t, v, map[string]int{"update": 1})
		p := policy.Principal{Tenant: store.DefaultTenant, Subject: "idp", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
		ops := []directory.PatchOp{{Op: "replace", Path: "title", Value: "Boss"}}
		if _, err := e.dir.PatchUser(t.Context(), p, u.ID, ops, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}
		v = e.commit(t, v.ID)
		wantState(t, v, store.JobCompletedWithErrors)
		rows, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{})
		if err != nil || len(rows) != 1 || rows[0].Status != csvbridge.StatusFailed || rows[0].ErrorCode != "stale_preview" {
			t.Fatalf("stale row: %+v %v", rows, err)
		}
	})
}

func TestJobs_RefusalsAndStates(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ctx := t.Context()
		helpDesk := e.admin
		helpDesk.Tier = policy.Tier0HelpDesk
		_, err := e.jobs.Submit(ctx, helpDesk, csvbridge.ProfileSCIM, "x.csv", []byte(scimFile))
		wantStatus(t, err, http.StatusForbidden)
		_, err = e.jobs.Submit(ctx, e.admin, "nope", "x.csv", []byte(scimFile))
		wantStatus(t, err, http.StatusNotFound)
		_, err = e.jobs.Submit(ctx, e.admin, csvbridge.ProfileSCIM, "x.csv", nil)
		wantStatus(t, err, http.StatusBadRequest)
		_, err = e.jobs.Submit(ctx, e.admin, csvbridge.ProfileSCIM, "x.csv", []byte("PK\x03\x04\x00\x00binary"))
		wantStatus(t, err, http.StatusBadRequest)

		// A header that does not fit the profile: an invalid job listing why.
		bad := e.submit(t, csvbridge.ProfileSupportTiers, "first_name,email,tier\nAnn,ann@example.com,support-tier-0-help-desk\n")
		wantState(t, bad, store.JobInvalid)
		if bad.File == nil || len(bad.File.Issues) == 0 {
			t.Fatalf("invalid job without file issues: %+v", bad)
		}
		_, err = e.jobs.Commit(ctx, e.admin, bad.ID, nil)
		wantStatus(t, err, http.StatusConflict)

		// Another tenant sees nothing.
		other := e.admin
		other.Tenant = "other"
		_, err = e.jobs.Get(ctx, other, bad.ID)
		wantStatus(t, err, http.StatusNotFound)

		// Cancel a validated import; it can no longer be committed.
		v := e.submit(t, csvbridge.ProfileSCIM, scimFile)
		c, err := e.jobs.Cancel(ctx, e.admin, v.ID)
		if err != nil || c.State != store.JobCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		_, err = e.jobs.Commit(ctx, e.admin, v.ID, nil)
		wantStatus(t, err, http.StatusConflict)
		_, err = e.jobs.Cancel(ctx, e.admin, v.ID)
		wantStatus(t, err, http.StatusConflict)
		if e.userCount(t) != 0 {
			t.Fatal("a cancelled import wrote users")
		}

		list, err := e.jobs.List(ctx, e.admin, 10, "")
		if err != nil || len(list) != 2 || list[0].ID != v.ID {
			t.Fatalf("history, newest first: %+v %v", list, err)
		}
	})
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != status || se.Detail == "" {
		t.Fatalf("error %v, want a SCIM error with status %d and a detail", err, status)
	}
}

// TestJobs_TierRulesAtPreviewAndCommit: nobody imports a user above their
// own tier (support-tiers profile, seed 000).
func TestJobs_TierRulesAtPreviewAndCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		file := "first_name,last_name,email,tier\n" +
			"Ann,Lee,ann@example.com,support-tier-1-operations\n" +
			"Bob,Kay,bob@example.com,support-tier-2-software-partner\n"
		v := e.submit(t, csvbridge.ProfileSupportTiers, file)
		wantCounts(t, v, map[string]int{"create": 1, "error": 1})
		rows, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Status: "failed"})
		if err != nil || len(rows) != 1 || rows[0].Row != 3 {
			t.Fatalf("tier-2 row not refused: %+v %v", rows, err)
		}
		v = e.commit(t, v.ID)
		wantCounts(t, v, map[string]int{"create": 1, "error": 1})
	})
}

// TestJobs_ExclusionsAndAllOrNothing: the commit policies of seeds 003
// and 004 through profile data.
func TestJobs_ExclusionsAndAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		strict := csvbridge.SupportTiersProfile()
		strict.Name, strict.Commit = "strict", csvbridge.CommitAllOrNothing
		excl := csvbridge.SupportTiersProfile()
		excl.Name, excl.Commit = "exclusions", csvbridge.CommitAllowExclusions
		find := func(name string) (*csvbridge.Profile, bool) {
			switch name {
			case "strict":
				return strict.Clone(), true
			case "exclusions":
				return excl.Clone(), true
			}
			return csvbridge.Builtin(name)
		}
		e := newJobEnv(t, open(t), csvbridge.WithProfiles(find))
		file := "first_name,last_name,email,tier\n" +
			"Ann,Lee,ann@example.com,support-tier-1-operations\n" +
			"Bob,Kay,not-an-email,support-tier-1-operations\n" +
			"Cy,Ode,cy@example.com,support-tier-0-help-desk\n"
		s := e.submit(t, "strict", file)
		wantState(t, s, store.JobInvalid)
		if !strings.Contains(s.Summary, "all its rows are valid") {
			t.Errorf("summary %q does not say why", s.Summary)
		}

		x := e.submit(t, "exclusions", file)
		wantState(t, x, store.JobValidated)
		_, err := e.jobs.Commit(t.Context(), e.admin, x.ID, nil)
		wantStatus(t, err, http.StatusConflict)
		x = e.commit(t, x.ID, 3, 4)
		wantState(t, x, store.JobCompleted)
		wantCounts(t, x, map[string]int{"create": 1, "excluded": 2, "error": 0})
		if e.userCount(t) != 1 {
			t.Errorf("%d users, want 1 (excluded rows written?)", e.userCount(t))
		}
	})
}

// TestJobs_ResumeAfterCrash: a worker applies a chunk and dies before
// recording it; another worker takes the job over after the lease and
// ends with exact counts and no duplicates.
func TestJobs_ResumeAfterCrash(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		e := newJobEnv(t, st)
		var b strings.Builder
		b.WriteString("userName,name.givenName,name.familyName\n")
		for i := range 9 {
			fmt.Fprintf(&b, "u%d@example.com,U%d,Test\n", i, i)
		}
		v := e.submit(t, csvbridge.ProfileSCIM, b.String())
		if _, err := e.jobs.Commit(t.Context(), e.admin, v.ID, nil); err != nil {
			t.Fatal(err)
		}
		crashApplyingFirstRows(t, e, v.ID, 3)

		later := func() time.Time { return time.Now().Add(10 * time.Minute) }
		takeover := newJobEnv(t, st, csvbridge.WithJobClock(later))
		takeover.drain(t)
		got, err := takeover.jobs.Get(t.Context(), e.admin, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, got, store.JobCompleted)
		wantCounts(t, got, map[string]int{"total": 9, "create": 9, "error": 0})
		if n := e.userCount(t); n != 9 {
			t.Fatalf("%d users after resume, want 9", n)
		}
	})
}

// crashApplyingFirstRows plays a worker that claims the committing job,
// records its first n pending rows as the chunk in flight, applies them,
// and dies.
func crashApplyingFirstRows(t *testing.T, e *jobEnv, id string, n int) {
	t.Helper()
	ctx := t.Context()
	job, err := e.st.ClaimJob(ctx, "dead-worker", time.Now(), time.Minute)
	if err != nil || job.ID != id {
		t.Fatalf("claim: %v %v", job.ID, err)
	}
	rows, err := e.st.JobRows(ctx, store.DefaultTenant, id, store.JobRowQuery{AfterSeq: -1, Limit: n, Statuses: []string{csvbridge.StatusPending}})
	if err != nil || len(rows) != n {
		t.Fatalf("rows: %d %v", len(rows), err)
	}
	planned := make([]csvbridge.Planned, n)
	for i, r := range rows {
		if err := json.Unmarshal(r.Data, &planned[i]); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.st.UpdateJob(ctx, store.DefaultTenant, id, "dead-worker", func(j *store.Job) error {
		var d csvbridge.Detail
		if err := json.Unmarshal(j.Detail, &d); err != nil {
			return err
		}
		d.InFlight = &csvbridge.Span{From: rows[0].Seq, To: rows[n-1].Seq + 1}
		j.Detail, err = json.Marshal(d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	err = csvbridge.Commit(ctx, e.dir, e.admin, e.dir.Registry().User, planned[:n-1], func(_ int, o csvbridge.Outcome) {
		if o.Status == csvbridge.StatusSucceeded {
			applied++
		}
	})
	if err != nil || applied != n-1 {
		t.Fatalf("the dead worker applied %d of %d: %v", applied, n-1, err)
	}
}

// TestJobs_ExpiredFailedAndQueuedCancel: the states a job reaches
// without a normal commit.
func TestJobs_ExpiredFailedAndQueuedCancel(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := t.Context()
		e := newJobEnv(t, st)
		v := e.submit(t, csvbridge.ProfileSCIM, scimFile)

		// Expired after the retention: the job stays in history, its rows go.
		later := newJobEnv(t, st, csvbridge.WithJobClock(func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }))
		if n, err := later.jobs.Expire(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		got, err := e.jobs.Get(ctx, e.admin, v.ID)
		if err != nil || got.State != store.JobExpired {
			t.Fatalf("expired job: %+v %v", got, err)
		}
		_, _, err = e.jobs.Rows(ctx, e.admin, v.ID, csvbridge.RowQuery{})
		wantStatus(t, err, http.StatusGone)
		wantStatus(t, e.jobs.Report(ctx, e.admin, v.ID, false, io.Discard), http.StatusGone)

		// A profile gone between upload and validation: the job fails.
		gone := newJobEnv(t, st, csvbridge.WithProfiles(func(name string) (*csvbridge.Profile, bool) {
			return nil, false
		}))
		job, err := e.jobs.Submit(ctx, e.admin, csvbridge.ProfileSCIM, "x.csv", []byte(scimFile))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gone.jobs.RunOnce(ctx); err == nil {
			t.Fatal("validation without its profile did not fail")
		}
		if got, _ := e.jobs.Get(ctx, e.admin, job.ID); got.State != store.JobFailed || !strings.Contains(got.Summary, "failed") {
			t.Fatalf("failed job: %+v", got)
		}

		// Cancelled while queued for commit: nothing is written.
		q := e.submit(t, csvbridge.ProfileSCIM, scimFile)
		if _, err := e.jobs.Commit(ctx, e.admin, q.ID, nil); err != nil {
			t.Fatal(err)
		}
		c, err := e.jobs.Cancel(ctx, e.admin, q.ID)
		if err != nil || c.State != store.JobCancelled || c.Counts["create"] != 0 {
			t.Fatalf("cancel queued commit: %+v %v", c, err)
		}
		e.drain(t)
		if n := e.userCount(t); n != 0 {
			t.Fatalf("a cancelled commit wrote %d users", n)
		}
	})
}

// TestJobs_ReferencesInTheFile: a manager column names users by userName:
// one that exists, one that a row further down (in a later chunk)
// creates, one nobody has (an error found once the file is read); a row
// whose only change is its manager is an update; the same manager again
// is unchanged.
func TestJobs_ReferencesInTheFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		dora := e.createUser(t, "dora@example.com", "Dora")
		frank := e.createUser(t, "frank@example.com", "Frank")
		file := "userName,name.givenName,manager\n" +
			"ann@example.com,Ann,carl@example.com\n" +
			"bob@example.com,Bob,DORA@example.com\n" +
			"dave@example.com,Dave,nobody@example.com\n" +
			"frank@example.com,,dora@example.com\n" +
			"carl@example.com,Carl,\n"
		v := e.submit(t, csvbridge.ProfileSCIM, file)
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"create": 3, "update": 1, "error": 1})
		bad, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Status: "failed"})
		if err != nil || len(bad) != 1 || bad[0].Row != 4 || bad[0].ErrorCode != csvbridge.CodeUnknownReference {
			t.Fatalf("unknown reference: %+v %v", bad, err)
		}
		v = e.commit(t, v.ID)
		wantState(t, v, store.JobCompletedWithErrors)
		if failed, _, _ := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Status: "failed"}); len(failed) != 1 {
			for _, r := range failed {
				t.Errorf("row %d failed: %s %s", r.Row, r.ErrorCode, r.Error)
			}
		}
		wantCounts(t, v, map[string]int{"create": 3, "update": 1, "error": 1})
		manager := func(userName string) string {
			p := policy.Principal{Tenant: store.DefaultTenant, Subject: "check", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
			l, err := e.dir.ListUsers(t.Context(), p, directory.ListQuery{Filter: `userName eq "` + userName + `"`, Count: 1})
			if err != nil || len(l.Resources) != 1 {
				t.Fatalf("%s: %v", userName, err)
			}
			doc, err := l.Resources[0].Document()
			if err != nil {
				t.Fatal(err)
			}
			ext, _ := doc[schema.EnterpriseURN].(map[string]any)
			m, _ := ext["manager"].(map[string]any)
			id, _ := m["value"].(string)
			return id
		}
		carl := manager("carl@example.com") // carl has none; find his id through ann
		if got := manager("ann@example.com"); got == "" || got == dora.ID || got == frank.ID {
			t.Fatalf("ann's manager %q is not carl", got)
		}
		if carl != "" {
			t.Fatalf("carl got a manager %q", carl)
		}
		if got := manager("bob@example.com"); got != dora.ID {
			t.Errorf("bob's manager %q, want dora %s", got, dora.ID)
		}
		if got := manager("frank@example.com"); got != dora.ID {
			t.Errorf("frank's manager %q, want dora %s", got, dora.ID)
		}
		rows, _, err := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Status == csvbridge.StatusLinking || r.Status == csvbridge.StatusPending {
				t.Errorf("row %d left %s", r.Row, r.Status)
			}
		}

		// The same file again: the references hold, nothing changes.
		again := e.submit(t, csvbridge.ProfileSCIM, strings.Replace(file, "dave@example.com,Dave,nobody@example.com\n", "", 1))
		wantCounts(t, again, map[string]int{"unchanged": 4, "update": 0, "create": 0, "error": 0})
	})
}

// busyStore answers ErrUnavailable (a saturated PostgreSQL pool) to the
// first InsertJobRows and RecordChunk calls it is told to fail.
type busyStore struct {
	store.Store
	failInserts, failRecords int
}

func (b *busyStore) InsertJobRows(ctx context.Context, tenant, id, owner string, rows []store.JobRow) error {
	if b.failInserts > 0 {
		b.failInserts--
		return fmt.Errorf("insert rows: %w", store.ErrUnavailable)
	}
	return b.Store.InsertJobRows(ctx, tenant, id, owner, rows)
}

func (b *busyStore) RecordChunk(ctx context.Context, tenant, id, owner string, outcomes []store.JobRowOutcome, fn func(*store.Job) error) (store.Job, error) {
	if b.failRecords > 0 {
		b.failRecords--
		return store.Job{}, fmt.Errorf("record chunk: %w", store.ErrUnavailable)
	}
	return b.Store.RecordChunk(ctx, tenant, id, owner, outcomes, fn)
}

// TestJobs_BusyDatabasePausesTheJob: a busy database pauses a job (its
// lease released, claimed again later) instead of failing it, and the
// job still ends with exact counts.
func TestJobs_BusyDatabasePausesTheJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		busy := &busyStore{Store: open(t), failInserts: 1}
		e := newJobEnv(t, busy, csvbridge.WithChunk(1))
		job, err := e.jobs.Submit(t.Context(), e.admin, csvbridge.ProfileSCIM, "x.csv", []byte(scimFile))
		if err != nil {
			t.Fatal(err)
		}
		if worked, err := e.jobs.RunOnce(t.Context()); worked || err != nil {
			t.Fatalf("busy validation: worked %v, %v", worked, err)
		}
		if v, _ := e.jobs.Get(t.Context(), e.admin, job.ID); v.State != store.JobValidating {
			t.Fatalf("a busy database ended the job: %s %q", v.State, v.Summary)
		}
		e.drain(t)
		if _, err := e.jobs.Commit(t.Context(), e.admin, job.ID, nil); err != nil {
			t.Fatal(err)
		}
		busy.failRecords = 2
		for range 3 { // each pause ends a round, as an idle worker's poll would
			e.drain(t)
		}
		v, err := e.jobs.Get(t.Context(), e.admin, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, v, store.JobCompletedWithErrors)
		wantCounts(t, v, map[string]int{"create": 4, "error": 1})
		if n := e.userCount(t); n != 4 {
			t.Fatalf("%d users, want 4", n)
		}
	})
}

// TestJobs_EntraBulkCreateTemplate: a file made from Microsoft Entra ID's
// bulk-create template (version line, "Label [graphName] Required"
// headers, columns without a SCIM counterpart) imports with the
// entra-bulk-create profile.
func TestJobs_EntraBulkCreateTemplate(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		file := "version:v1.0\r\n" +
			"Name [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required," +
			"Block sign in (Yes/No) [accountEnabled] Required,First name [givenName],Last name [surname],Job title [jobTitle]," +
			"Department [department],Usage location [usageLocation],Street address [streetAddress],State or province [state]," +
			"Country or region [country],Office [physicalDeliveryOfficeName],City [city],ZIP or postal code [postalCode]," +
			"Office phone [telephoneNumber],Mobile phone [mobile]\r\n" +
			"Ann Lee,ann@contoso.com,Pa55word!,No,Ann,Lee,Engineer,R&D,US,1 Main St,WA,US,B1,Redmond,98052,+1 425 555 0100,+1 425 555 0101\r\n" +
			"Bob Kay,bob@contoso.com,Pa55word!,Yes,Bob,Kay,,,,,,,,,,,\r\n"
		v := e.submit(t, csvbridge.ProfileEntra, file)
		wantState(t, v, store.JobValidated)
		wantCounts(t, v, map[string]int{"create": 2, "error": 0})
		if v.File == nil || v.File.Format == nil || v.File.Format.Version != "v1.0" || !v.File.Columns[2].Ignored {
			t.Fatalf("format and mapping: %+v", v.File)
		}
		v = e.commit(t, v.ID)
		wantCounts(t, v, map[string]int{"create": 2})
		p := policy.Principal{Tenant: store.DefaultTenant, Subject: "check", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
		l, err := e.dir.ListUsers(t.Context(), p, directory.ListQuery{Filter: `userName eq "ann@contoso.com"`, Count: 1})
		if err != nil || len(l.Resources) != 1 {
			t.Fatalf("ann: %v", err)
		}
		doc, err := l.Resources[0].Document()
		if err != nil {
			t.Fatal(err)
		}
		name, _ := doc["name"].(map[string]any)
		ext, _ := doc[schema.EnterpriseURN].(map[string]any)
		addr, _ := doc["addresses"].([]any)
		if doc["active"] != true || doc["title"] != "Engineer" || name["familyName"] != "Lee" || ext["department"] != "R&D" || len(addr) != 1 || doc["password"] != nil {
			t.Fatalf("ann as stored: %v", doc)
		}
		l, err = e.dir.ListUsers(t.Context(), p, directory.ListQuery{Filter: `userName eq "bob@contoso.com" and active eq false`, Count: 1})
		if err != nil || len(l.Resources) != 1 {
			t.Fatalf("bob (sign-in blocked) should be inactive: %v %d", err, len(l.Resources))
		}
	})
}

// TestEntraTemplateReadsBack: the entra-bulk-create template is Entra's
// own layout, and a file filled from it imports.
func TestEntraTemplateReadsBack(t *testing.T) {
	p, ok := csvbridge.Builtin(csvbridge.ProfileEntra)
	if !ok {
		t.Fatal("no entra-bulk-create profile")
	}
	var b bytes.Buffer
	if err := csvbridge.WriteTemplate(&b, p); err != nil {
		t.Fatal(err)
	}
	tpl := b.String()
	if !strings.HasPrefix(tpl, "version:v1.0\r\nName [displayName],User name [userPrincipalName] Required,Block sign in (Yes/No) [accountEnabled],") {
		t.Fatalf("template %q", tpl)
	}
	im, err := csvbridge.Open(strings.NewReader(tpl+"Ann,ann@contoso.com,No,,,,,,,,,,,\r\n"), p, schema.New(), csvbridge.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	row, err := im.Next()
	if err != nil || !row.OK() || row.Number != 3 {
		t.Fatalf("row from the template: %+v %v", row, err)
	}
}

// analyzingStore is a store that counts the calls to store.Analyzer.
type analyzingStore struct {
	store.Store
	calls int
}

func (s *analyzingStore) AnalyzeUsers(context.Context) error { s.calls++; return nil }

// TestJobs_CommitRefreshesUserStatistics checks that a commit that creates
// at least a chunk of users (2 in these tests) has the store refresh its
// statistics once it ends, and one that writes less (here: the same file
// again, every row unchanged) does not.
func TestJobs_CommitRefreshesUserStatistics(t *testing.T) {
	st := &analyzingStore{Store: servertest.Stores()["sqlite"](t)}
	e := newJobEnv(t, st)
	v := e.commit(t, e.submit(t, csvbridge.ProfileSCIM, scimFile).ID)
	wantState(t, v, store.JobCompletedWithErrors)
	if v.Counts["create"] != 4 || st.calls != 1 {
		t.Fatalf("after creating %d users: %d refreshes, want 1", v.Counts["create"], st.calls)
	}
	again := e.commit(t, e.submit(t, csvbridge.ProfileSCIM, scimFile).ID)
	if again.Counts["unchanged"] != 4 || st.calls != 1 {
		t.Fatalf("after a commit that wrote nothing (%v): %d refreshes, want still 1", again.Counts, st.calls)
	}
}
