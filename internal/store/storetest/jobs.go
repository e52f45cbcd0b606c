package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func jobCases() []testCase {
	return []testCase{
		{"JobCreateGetList", testJobCreateGetList},
		{"JobTenantIsolation", testJobTenantIsolation},
		{"JobUploadAndExpiry", testJobUploadAndExpiry},
		{"JobUpdateLease", testJobUpdateLease},
		{"JobRowsInsertAndQuery", testJobRows},
		{"JobRowsLarge", testJobRowsLarge},
		{"JobRecordChunk", testJobRecordChunk},
		{"JobClaimOrder", testJobClaimOrder},
		{"JobClaimAfterLeaseExpiry", testJobClaimLeaseExpiry},
		{"JobClaimOneCommitPerTenant", testJobClaimOneCommit},
		{"JobClaimConcurrent", testJobClaimConcurrent},
		{"JobRenewAndRelease", testJobRenewRelease},
	}
}

// farFuture is when test jobs expire unless a case says otherwise.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// hour is the lease a worker takes in these cases: longer than any case
// runs, so a lease taken at time.Now() is live throughout.
const hour = time.Hour

func newJob(tenant string, created time.Time, state store.JobState) store.Job {
	return store.Job{
		ID: uuid.NewString(), TenantID: tenant, Kind: "import", Profile: "okta-users", ProfileVersion: 2,
		State: state, Actor: "admin@example.com", Principal: []byte(`{"tenant":"` + tenant + `"}`),
		FileName: "people.csv", FileSHA256: "ab12", FileSize: 42, Total: 3, Done: 0,
		Counts: map[string]int{"create": 2, "error": 1}, Summary: "3 rows", Detail: []byte(`{"header":["email"]}`),
		Created: created, Updated: created, Expires: farFuture, Version: 1,
	}
}

func mustCreateJob(t *testing.T, s store.Store, j store.Job) store.Job {
	t.Helper()
	if err := s.CreateJob(context.Background(), j, strings.NewReader("email\n"+j.ID+"\n")); err != nil {
		t.Fatalf("CreateJob(%s): %v", j.ID, err)
	}
	return j
}

func mustGetJob(t *testing.T, s store.Store, tenant, id string) store.Job {
	t.Helper()
	j, err := s.GetJob(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("GetJob(%s): %v", id, err)
	}
	return j
}

func mustClaim(t *testing.T, s store.Store, owner string, at time.Time) store.Job {
	t.Helper()
	j, err := s.ClaimJob(context.Background(), owner, at, hour)
	if err != nil {
		t.Fatalf("ClaimJob(%s): %v", owner, err)
	}
	return j
}

func jobIDs(jobs []store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func sameJob(t *testing.T, got, want store.Job) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("job = %+v\nwant  %+v", got, want)
	}
}

func testJobCreateGetList(t *testing.T, s store.Store) {
	ctx := context.Background()
	var made []store.Job
	for i := range 5 {
		made = append(made, mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(time.Duration(i)*time.Minute), store.JobValidating)))
	}
	// Two jobs created at the same instant list by id, descending.
	twins := []store.Job{newJob(store.DefaultTenant, now.Add(time.Hour), store.JobValidated), newJob(store.DefaultTenant, now.Add(time.Hour), store.JobValidated)}
	twins[0].ID, twins[1].ID = "twin-a", "twin-b"
	for _, j := range twins {
		made = append(made, mustCreateJob(t, s, j))
	}
	got := mustGetJob(t, s, store.DefaultTenant, made[2].ID)
	sameJob(t, got, made[2])
	want := []string{"twin-b", "twin-a", made[4].ID, made[3].ID, made[2].ID, made[1].ID, made[0].ID}
	var walked []string
	before := ""
	for {
		page, err := s.ListJobs(ctx, store.DefaultTenant, 3, before)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		walked = append(walked, jobIDs(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(walked, want) {
		t.Fatalf("ListJobs pages = %v, want %v", walked, want)
	}
	page, err := s.ListJobs(ctx, store.DefaultTenant, 1, "")
	if err != nil || len(page) != 1 {
		t.Fatalf("ListJobs(limit 1) = %v, %v", page, err)
	}
	sameJob(t, page[0], twins[1])
	wantErr(t, s.CreateJob(ctx, made[0], nil), store.ErrConflict)
	wantErr(t, s.CreateJob(ctx, newJob("nope", now, store.JobValidating), nil), store.ErrNotFound)
}

func testJobTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "acme")
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", jobRows(3)); err != nil {
		t.Fatal(err)
	}
	other := mustCreateJob(t, s, newJob("acme", now, store.JobValidated))
	_, err := s.GetJob(ctx, "acme", j.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.JobUpload(ctx, "acme", j.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateJob(ctx, "acme", j.ID, "", func(*store.Job) error { return nil })
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.InsertJobRows(ctx, "acme", j.ID, "", jobRows(1)), store.ErrNotFound)
	_, err = s.RecordChunk(ctx, "acme", j.ID, "", []store.JobRowOutcome{{Seq: 0, Status: "failed"}}, nil)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RenewLease(ctx, "acme", j.ID, "w", farFuture), store.ErrNotFound)
	wantErr(t, s.ReleaseJob(ctx, "acme", j.ID, "w"), store.ErrNotFound)
	rows, err := s.JobRows(ctx, "acme", j.ID, store.JobRowQuery{AfterSeq: -1, Limit: 10})
	if err != nil || len(rows) != 0 {
		t.Fatalf("JobRows from another tenant = %v, %v", rows, err)
	}
	stats, err := s.JobRowStats(ctx, "acme", j.ID)
	if err != nil || len(stats) != 0 {
		t.Fatalf("JobRowStats from another tenant = %v, %v", stats, err)
	}
	list, err := s.ListJobs(ctx, "acme", 10, "")
	if err != nil || !slices.Equal(jobIDs(list), []string{other.ID}) {
		t.Fatalf("ListJobs(acme) = %v, %v", jobIDs(list), err)
	}
	list, err = s.ListJobs(ctx, "acme", 10, j.ID)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListJobs(acme, before another tenant's job) = %v, %v", jobIDs(list), err)
	}
	// Nothing of the default tenant's job changed.
	sameJob(t, mustGetJob(t, s, store.DefaultTenant, j.ID), j)
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, jobRows(3))
}

// jobRows are n pending rows whose actions cycle create, update, unchanged.
func jobRows(n int) []store.JobRow {
	actions := []string{"create", "update", "unchanged"}
	out := make([]store.JobRow, n)
	for i := range out {
		out[i] = store.JobRow{Seq: i, Number: i + 2, Action: actions[i%3], Status: "pending",
			Data: []byte(fmt.Sprintf(`{"cells":["user%d@example.com"]}`, i))}
	}
	return out
}

func checkRows(t *testing.T, s store.Store, j store.Job, q store.JobRowQuery, want []store.JobRow) {
	t.Helper()
	got, err := s.JobRows(context.Background(), j.TenantID, j.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("JobRows(%+v) = %d rows %+v, want %d", q, len(got), got, len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !reflect.DeepEqual(g, w) && !(bytes.Equal(g.Data, w.Data) && sameRowFields(g, w)) {
			t.Fatalf("JobRows(%+v)[%d] = %+v, want %+v", q, i, got[i], want[i])
		}
	}
}

// sameRowFields compares two rows but for Data (an empty Data may read
// back nil).
func sameRowFields(a, b store.JobRow) bool {
	a.Data, b.Data = nil, nil
	return reflect.DeepEqual(a, b)
}

func testJobUploadAndExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := now.Add(24 * time.Hour)
	old := newJob(store.DefaultTenant, now, store.JobValidating)
	old.Expires = at.Add(-time.Second)
	done := newJob(store.DefaultTenant, now, store.JobCompleted)
	done.Expires = at.Add(-time.Hour)
	gone := newJob(store.DefaultTenant, now, store.JobExpired)
	gone.Expires = at.Add(-time.Hour)
	live := newJob(store.DefaultTenant, now, store.JobValidated)
	live.Expires = at
	for _, j := range []store.Job{old, done, gone, live} {
		mustCreateJob(t, s, j)
		if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", jobRows(4)); err != nil {
			t.Fatal(err)
		}
	}
	if body := readUpload(t, s, old); body != "email\n"+old.ID+"\n" {
		t.Fatalf("JobUpload = %q", body)
	}
	// A file of several parts comes back whole, byte for byte.
	big := newJob(store.DefaultTenant, now, store.JobCompleted)
	want := strings.Repeat("0123456789abcdef", store.UploadPartSize/16*2+5) + "tail"
	if err := s.CreateJob(ctx, big, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if got := readUpload(t, s, big); got != want {
		t.Fatalf("upload of %d bytes came back as %d bytes", len(want), len(got))
	}
	empty := newJob(store.DefaultTenant, now, store.JobCompleted)
	if err := s.CreateJob(ctx, empty, strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if got := readUpload(t, s, empty); got != "" {
		t.Fatalf("empty upload came back as %q", got)
	}
	held := mustClaim(t, s, "w1", time.Now())
	if held.ID != old.ID {
		t.Fatalf("claimed %s, want %s", held.ID, old.ID)
	}
	n, err := s.ExpireJobs(ctx, at)
	if err != nil || n != 2 {
		t.Fatalf("ExpireJobs = %d, %v, want 2", n, err)
	}
	if n, err := s.ExpireJobs(ctx, at); err != nil || n != 0 {
		t.Fatalf("second ExpireJobs = %d, %v, want 0", n, err)
	}
	for _, j := range []store.Job{old, done} {
		got := mustGetJob(t, s, j.TenantID, j.ID)
		if got.State != store.JobExpired || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
			t.Fatalf("expired job = %+v", got)
		}
		_, err := s.JobUpload(ctx, j.TenantID, j.ID)
		wantErr(t, err, store.ErrNotFound)
		checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, nil)
		if stats, err := s.JobRowStats(ctx, j.TenantID, j.ID); err != nil || len(stats) != 0 {
			t.Fatalf("stats of expired job = %v, %v", stats, err)
		}
	}
	_, err = s.UpdateJob(ctx, old.TenantID, old.ID, "w1", func(*store.Job) error { return nil })
	wantErr(t, err, store.ErrLeaseLost)
	if _, err := s.JobUpload(ctx, live.TenantID, live.ID); err != nil {
		t.Fatalf("upload of a live job: %v", err)
	}
	sameJob(t, mustGetJob(t, s, live.TenantID, live.ID), live)
	checkRows(t, s, live, store.JobRowQuery{AfterSeq: -1, Limit: 10}, jobRows(4))
}

var errCallback = errors.New("callback failed")

func testJobUpdateLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidated))
	got, err := s.UpdateJob(ctx, j.TenantID, j.ID, "", func(x *store.Job) error {
		x.State, x.Summary, x.Done, x.Counts = store.JobCommitting, "committing", 1, map[string]int{"create": 3}
		x.Version, x.ID, x.TenantID = 99, "other", "acme" // the store owns these
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := j
	want.State, want.Summary, want.Done, want.Counts, want.Version = store.JobCommitting, "committing", 1, map[string]int{"create": 3}, 2
	sameJob(t, got, want)
	sameJob(t, mustGetJob(t, s, j.TenantID, j.ID), want)

	_, err = s.UpdateJob(ctx, j.TenantID, j.ID, "", func(x *store.Job) error { x.Summary = "lost"; return errCallback })
	wantErr(t, err, errCallback)
	_, err = s.UpdateJob(ctx, j.TenantID, j.ID, "w1", func(x *store.Job) error { x.Summary = "lost"; return nil })
	wantErr(t, err, store.ErrLeaseLost)
	sameJob(t, mustGetJob(t, s, j.TenantID, j.ID), want)

	mustClaim(t, s, "w1", time.Now())
	_, err = s.UpdateJob(ctx, j.TenantID, j.ID, "w2", func(x *store.Job) error { x.Summary = "lost"; return nil })
	wantErr(t, err, store.ErrLeaseLost)
	got, err = s.UpdateJob(ctx, j.TenantID, j.ID, "w1", func(x *store.Job) error { x.Done = 3; return nil })
	if err != nil || got.Done != 3 || got.Version != 3 || got.LeaseOwner != "w1" {
		t.Fatalf("UpdateJob by the lease holder = %+v, %v", got, err)
	}

	// A lease that ran out (by the store's clock) no longer lets its owner write.
	k := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	mustClaim(t, s, "w3", time.Now().Add(-2*hour))
	_, err = s.UpdateJob(ctx, k.TenantID, k.ID, "w3", func(x *store.Job) error { x.Summary = "lost"; return nil })
	wantErr(t, err, store.ErrLeaseLost)
	if got := mustGetJob(t, s, k.TenantID, k.ID); got.Summary != k.Summary || got.Version != 1 {
		t.Fatalf("job written under a lost lease: %+v", got)
	}
}

// testJobRowsLarge: rows stored the size a validation stores them (a
// backend may copy them, as PostgreSQL does), and stored again over
// themselves, as a validation run again after its worker died does: the
// last write of each row wins and none is lost or doubled.
func testJobRowsLarge(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	rows := jobRows(300)
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", rows[:200]); err != nil {
		t.Fatal(err)
	}
	again := slices.Clone(rows[100:])
	for i := range again[:100] {
		again[i].Action, again[i].Status, again[i].Error = "error", "invalid", "changed"
		again[i].Data = fmt.Appendf(nil, `{"again":%d}`, i)
	}
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", again); err != nil {
		t.Fatal(err)
	}
	copy(rows[100:], again)
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 1000}, rows)
}

func testJobRows(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	rows := jobRows(10)
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", rows[:6]); err != nil {
		t.Fatal(err)
	}
	// A second insert adds rows and replaces seq 3; within one call the
	// last row of a seq wins.
	repl := store.JobRow{Seq: 3, Number: 5, Action: "delete", Status: "excluded", ResourceID: "u-3", ErrorCode: "E1", Error: "bad", Data: []byte(`{"x":1}`)}
	first := repl
	first.Action = "create"
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", append([]store.JobRow{first}, append(rows[6:], repl)...)); err != nil {
		t.Fatal(err)
	}
	rows[3] = repl
	all := store.JobRowQuery{AfterSeq: -1, Limit: 100}
	checkRows(t, s, j, all, rows)
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: 4, Limit: 3}, rows[5:8])
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 100, Actions: []string{"create"}}, rowsAt(rows, 0, 6, 9))
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: 0, Limit: 100, Actions: []string{"update", "delete"}}, rowsAt(rows, 1, 3, 4, 7))
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 100, Statuses: []string{"excluded"}}, rowsAt(rows, 3))
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 2, Actions: []string{"update", "unchanged"}, Statuses: []string{"pending"}},
		rowsAt(rows, 1, 2))
	stats, err := s.JobRowStats(ctx, j.TenantID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStats := []store.JobRowStat{{Action: "create", Status: "pending", N: 3}, {Action: "delete", Status: "excluded", N: 1},
		{Action: "unchanged", Status: "pending", N: 3}, {Action: "update", Status: "pending", N: 3}}
	if !reflect.DeepEqual(stats, wantStats) {
		t.Fatalf("JobRowStats = %v, want %v", stats, wantStats)
	}

	mustClaim(t, s, "w1", time.Now())
	wantErr(t, s.InsertJobRows(ctx, j.TenantID, j.ID, "w2", jobRows(20)), store.ErrLeaseLost)
	checkRows(t, s, j, all, rows)
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "w1", []store.JobRow{{Seq: 10, Number: 12, Action: "create", Status: "pending"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.JobRows(ctx, j.TenantID, j.ID, store.JobRowQuery{AfterSeq: 9, Limit: 10}); err != nil || len(got) != 1 {
		t.Fatalf("row inserted by the lease holder: %v, %v", got, err)
	}
	wantErr(t, s.InsertJobRows(ctx, j.TenantID, "nope", "", jobRows(1)), store.ErrNotFound)
}

func rowsAt(rows []store.JobRow, seqs ...int) []store.JobRow {
	out := make([]store.JobRow, len(seqs))
	for i, q := range seqs {
		out[i] = rows[q]
	}
	return out
}

func testJobRecordChunk(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobCommitting))
	rows := jobRows(6)
	if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", rows); err != nil {
		t.Fatal(err)
	}
	claimed := mustClaim(t, s, "w1", time.Now())
	outcomes := []store.JobRowOutcome{
		{Seq: 1, Status: "succeeded", ResourceID: "u-1"},
		{Seq: 2, Action: "update", Status: "failed", ErrorCode: "conflict", Error: "changed"},
	}
	// fn fails: neither the outcomes nor the job are written.
	_, err := s.RecordChunk(ctx, j.TenantID, j.ID, "w1", outcomes, func(x *store.Job) error { x.Done = 2; return errCallback })
	wantErr(t, err, errCallback)
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, rows)
	// A worker that does not hold the lease writes nothing.
	_, err = s.RecordChunk(ctx, j.TenantID, j.ID, "w2", outcomes, func(x *store.Job) error { x.Done = 2; return nil })
	wantErr(t, err, store.ErrLeaseLost)
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, rows)
	sameJob(t, mustGetJob(t, s, j.TenantID, j.ID), claimed)

	got, err := s.RecordChunk(ctx, j.TenantID, j.ID, "w1", outcomes, func(x *store.Job) error { x.Done = 2; return nil })
	if err != nil || got.Done != 2 || got.Version != 2 {
		t.Fatalf("RecordChunk = %+v, %v", got, err)
	}
	rows[1].Status, rows[1].ResourceID = "succeeded", "u-1"
	rows[2].Action, rows[2].Status, rows[2].ErrorCode, rows[2].Error = "update", "failed", "conflict", "changed"
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, rows)

	// Without fn only the rows change.
	got, err = s.RecordChunk(ctx, j.TenantID, j.ID, "", []store.JobRowOutcome{{Seq: 5, Status: "skipped"}}, nil)
	if err != nil || got.Version != 2 || got.Done != 2 {
		t.Fatalf("RecordChunk without fn = %+v, %v", got, err)
	}
	rows[5].Status = "skipped"
	checkRows(t, s, j, store.JobRowQuery{AfterSeq: -1, Limit: 10}, rows)
}

func testJobClaimOrder(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(-time.Hour), store.JobCompleted))
	mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(-time.Hour), store.JobValidated))
	c := mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(2*time.Minute), store.JobValidating))
	a := mustCreateJob(t, s, newJob("acme", now, store.JobValidating))
	b := mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(time.Minute), store.JobCommitting))
	at := time.Now().UTC().Truncate(time.Microsecond)
	for _, want := range []store.Job{a, b, c} {
		got, err := s.ClaimJob(context.Background(), "w1", at, hour)
		if err != nil {
			t.Fatal(err)
		}
		want.LeaseOwner, want.LeaseUntil = "w1", at.Add(hour)
		sameJob(t, got, want)
		sameJob(t, mustGetJob(t, s, want.TenantID, want.ID), want)
	}
	_, err := s.ClaimJob(context.Background(), "w1", at, hour)
	wantErr(t, err, store.ErrNotFound)
	for _, st := range []store.JobState{store.JobInvalid, store.JobCompletedWithErrors, store.JobFailed, store.JobCancelled, store.JobExpired} {
		mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(-2*time.Hour), st))
	}
	_, err = s.ClaimJob(context.Background(), "w1", at, hour)
	wantErr(t, err, store.ErrNotFound)
}

func testJobClaimLeaseExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	at := now.Add(time.Hour)
	if got, err := s.ClaimJob(ctx, "w1", at, time.Minute); err != nil || got.ID != j.ID {
		t.Fatalf("first claim = %+v, %v", got, err)
	}
	_, err := s.ClaimJob(ctx, "w2", at.Add(30*time.Second), time.Minute)
	wantErr(t, err, store.ErrNotFound)
	got, err := s.ClaimJob(ctx, "w2", at.Add(2*time.Minute), time.Minute)
	if err != nil || got.ID != j.ID || got.LeaseOwner != "w2" || !got.LeaseUntil.Equal(at.Add(3*time.Minute)) {
		t.Fatalf("claim after the lease ran out = %+v, %v", got, err)
	}
}

func testJobClaimOneCommit(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	j1 := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobCommitting))
	j2 := mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(time.Minute), store.JobCommitting))
	k1 := mustCreateJob(t, s, newJob("acme", now.Add(2*time.Minute), store.JobCommitting))
	v := mustCreateJob(t, s, newJob(store.DefaultTenant, now.Add(3*time.Minute), store.JobValidating))
	at := time.Now()
	for _, want := range []store.Job{j1, k1, v} {
		if got := mustClaim(t, s, "w1", at); got.ID != want.ID {
			t.Fatalf("claimed %s (%s), want %s", got.ID, got.State, want.ID)
		}
	}
	_, err := s.ClaimJob(context.Background(), "w2", at, hour)
	wantErr(t, err, store.ErrNotFound)
	if err := s.ReleaseJob(context.Background(), j1.TenantID, j1.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	// j1 is free again and older than j2: it is the next commit.
	if got := mustClaim(t, s, "w2", at); got.ID != j1.ID {
		t.Fatalf("claimed %s, want the released %s", got.ID, j1.ID)
	}
	if _, err := s.UpdateJob(context.Background(), j1.TenantID, j1.ID, "w2", func(x *store.Job) error {
		x.State, x.LeaseOwner, x.LeaseUntil = store.JobCompleted, "", time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustClaim(t, s, "w2", at); got.ID != j2.ID {
		t.Fatalf("claimed %s, want %s once the first commit ended", got.ID, j2.ID)
	}
}

// testJobClaimConcurrent has 8 workers claim from 20 validating jobs of
// three tenants and 5 committing jobs of each of four tenants, all at
// once: every validating job is claimed exactly once, and one committing
// job of each tenant.
func testJobClaimConcurrent(t *testing.T, s store.Store) {
	tenants := []string{store.DefaultTenant, "t1", "t2", "t3"}
	for _, tn := range tenants[1:] {
		mustCreateTenant(t, s, tn)
	}
	validating, commits := map[string]bool{}, map[string]string{}
	for i := range 20 {
		j := mustCreateJob(t, s, newJob(tenants[i%3], now.Add(time.Duration(i)*time.Second), store.JobValidating))
		validating[j.ID] = true
	}
	for i := range 20 {
		j := mustCreateJob(t, s, newJob(tenants[i%4], now.Add(time.Duration(i)*time.Second), store.JobCommitting))
		commits[j.ID] = j.TenantID
	}
	claims := claimAll(t, s, 8)
	perTenant, validated := map[string]int{}, 0
	for id, n := range claims {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
		if tn, ok := commits[id]; ok {
			perTenant[tn]++
		} else if validating[id] {
			validated++
		} else {
			t.Errorf("claimed unknown job %s", id)
		}
	}
	if validated != len(validating) {
		t.Errorf("claimed %d validating jobs, want %d", validated, len(validating))
	}
	for _, tn := range tenants {
		if perTenant[tn] != 1 {
			t.Errorf("tenant %s: %d committing jobs claimed, want 1", tn, perTenant[tn])
		}
	}
}

// claimAll has workers claim jobs at once until none is left and returns
// how often each job was claimed.
func claimAll(t *testing.T, s store.Store, workers int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	claims := map[string]int{}
	errs := make([]error, workers)
	at := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				j, err := s.ClaimJob(context.Background(), fmt.Sprintf("w%d", w), at, hour)
				if err != nil {
					if !errors.Is(err, store.ErrNotFound) {
						errs[w] = err
					}
					return
				}
				mu.Lock()
				claims[j.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return claims
}

func testJobRenewRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	j := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	mustClaim(t, s, "w1", time.Now())
	until := time.Now().Add(2 * hour).UTC().Truncate(time.Microsecond)
	if err := s.RenewLease(ctx, j.TenantID, j.ID, "w1", until); err != nil {
		t.Fatal(err)
	}
	if got := mustGetJob(t, s, j.TenantID, j.ID); got.LeaseOwner != "w1" || !got.LeaseUntil.Equal(until) {
		t.Fatalf("renewed lease = %s until %s, want w1 until %s", got.LeaseOwner, got.LeaseUntil, until)
	}
	wantErr(t, s.RenewLease(ctx, j.TenantID, j.ID, "w2", until.Add(hour)), store.ErrLeaseLost)
	if err := s.ReleaseJob(ctx, j.TenantID, j.ID, "w2"); err != nil {
		t.Fatalf("release by a worker that lost the lease: %v", err)
	}
	if got := mustGetJob(t, s, j.TenantID, j.ID); got.LeaseOwner != "w1" || !got.LeaseUntil.Equal(until) {
		t.Fatalf("lease after another worker's release = %s until %s", got.LeaseOwner, got.LeaseUntil)
	}
	if err := s.ReleaseJob(ctx, j.TenantID, j.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	if got := mustGetJob(t, s, j.TenantID, j.ID); got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
		t.Fatalf("released lease = %q until %s", got.LeaseOwner, got.LeaseUntil)
	}
	wantErr(t, s.RenewLease(ctx, j.TenantID, j.ID, "w1", until), store.ErrLeaseLost)
	if got := mustClaim(t, s, "w2", time.Now()); got.ID != j.ID {
		t.Fatalf("claimed %s, want the released %s", got.ID, j.ID)
	}
	// A lease that ran out cannot be renewed.
	k := mustCreateJob(t, s, newJob(store.DefaultTenant, now, store.JobValidating))
	mustClaim(t, s, "w3", time.Now().Add(-2*hour))
	wantErr(t, s.RenewLease(ctx, k.TenantID, k.ID, "w3", until), store.ErrLeaseLost)
	wantErr(t, s.RenewLease(ctx, k.TenantID, "nope", "w3", until), store.ErrNotFound)
	wantErr(t, s.ReleaseJob(ctx, k.TenantID, "nope", "w3"), store.ErrNotFound)
}

// BenchJobRows are n rows of a job as an import plans them, each with
// about 300 bytes of Data, for the backends' InsertJobRows benchmarks.
func BenchJobRows(n int) []store.JobRow {
	out := make([]store.JobRow, n)
	for i := range out {
		out[i] = store.JobRow{Seq: i, Number: i + 2, Action: "create", Status: "pending", Data: []byte(fmt.Sprintf(
			`{"cells":["user%07d@example.com","Given%07d","Family%07d","support-tier-1-operations","Engineering"],`+
				`"plan":{"op":"create","match":"email"},"diff":[{"path":"name.givenName","new":"Given%07d"},`+
				`{"path":"name.familyName","new":"Family%07d"},{"path":"active","new":true}],"issues":[]}`, i, i, i, i, i))}
	}
	return out
}

// BenchInsertJobRows measures InsertJobRows of rows into a fresh job per
// iteration, created outside the timer, and reports rows/s. It checks
// that every row arrived.
func BenchInsertJobRows(b *testing.B, s store.Store, rows []store.JobRow) {
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		j := newJob(store.DefaultTenant, now, store.JobValidating)
		if err := s.CreateJob(ctx, j, strings.NewReader("upload")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.InsertJobRows(ctx, j.TenantID, j.ID, "", rows); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		stats, err := s.JobRowStats(ctx, j.TenantID, j.ID)
		if err != nil || len(stats) != 1 || stats[0].N != len(rows) {
			b.Fatalf("row stats after inserting %d rows: %v, %v", len(rows), stats, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// readUpload reads a job's whole upload.
func readUpload(t *testing.T, s store.Store, j store.Job) string {
	t.Helper()
	r, err := s.JobUpload(context.Background(), j.TenantID, j.ID)
	if err != nil {
		t.Fatalf("JobUpload(%s): %v", j.ID, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read upload of %s: %v", j.ID, err)
	}
	return string(b)
}
