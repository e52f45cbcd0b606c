package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestClaimJobBesideAClaimInFlight stands a raw transaction in for a
// replica in the middle of claiming a tenant's committing job (its job
// row leased but not committed, the tenant's commit lock held): a claim
// beside it neither waits for it nor takes the tenant's other committing
// job, and still takes another tenant's. Once the first claim commits, its
// lease keeps the tenant's second commit waiting.
func TestClaimJobBesideAClaimInFlight(t *testing.T) {
	ctx := context.Background()
	st, conn := storeAndConn(t, pgtest.DSN(t))
	if err := st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	j1 := createCommittingJob(t, st, store.DefaultTenant, base)
	createCommittingJob(t, st, store.DefaultTenant, base.Add(time.Second))
	k1 := createCommittingJob(t, st, "acme", base.Add(2*time.Second))

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE csv_jobs SET lease_owner = 'replica-2', lease_until = now() + interval '1 hour'
		WHERE tenant_id = $1 AND id = $2`, store.DefaultTenant, j1.ID); err != nil {
		t.Fatal(err)
	}
	var locked bool
	if err := tx.QueryRow(ctx, postgres.CommitLockSQL, store.DefaultTenant).Scan(&locked); err != nil || !locked {
		t.Fatalf("commit lock: %v, %v", locked, err)
	}
	// A claim that waited for the transaction would never return: bound it.
	claim := func() (store.Job, error) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return st.ClaimJob(cctx, "replica-1", time.Now(), time.Hour)
	}
	if got, err := claim(); err != nil || got.ID != k1.ID {
		t.Fatalf("claim beside the claim in flight = %s (%s), %v; want acme's %s", got.ID, got.TenantID, err, k1.ID)
	}
	if got, err := claim(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim beside the claim in flight = %s (%s), %v; want none", got.ID, got.TenantID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := claim(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim after the first commit was leased = %s (%s), %v; want none", got.ID, got.TenantID, err)
	}
}

func createCommittingJob(t *testing.T, st *postgres.Store, tenant string, created time.Time) store.Job {
	t.Helper()
	j := store.Job{ID: uuid.NewString(), TenantID: tenant, Kind: "import", Profile: "p", ProfileVersion: 1,
		State: store.JobCommitting, Created: created, Updated: created, Expires: created.Add(24 * time.Hour)}
	if err := st.CreateJob(context.Background(), j, strings.NewReader("userName\nann\n")); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJobRowDataSurvivesTheSplit upgrades a database holding a job's rows
// from before migration 0015 (the plan in csv_job_rows.data): the rows
// read back with their data, an outcome recorded afterwards keeps it, and
// expiring the job drops the data too.
func TestJobRowDataSurvivesTheSplit(t *testing.T) {
	ctx := context.Background()
	dsn, conn := migratedBefore(t, "0015")
	mustExec(t, conn, `INSERT INTO csv_jobs (tenant_id, id, kind, profile, profile_version, state, actor, principal, file_name,
			file_sha256, file_size, total, done, counts, summary, detail, created, updated, expires, version)
		VALUES ('default', 'job-1', 'import', 'scim', 1, 'validated', 'ann', '', 'f.csv', '', 0, 2, 2, '{}', '', '',
			now(), now(), now() + interval '1 day', 1)`)
	mustExec(t, conn, `INSERT INTO csv_job_rows (tenant_id, job_id, seq, number, action, status, resource_id, error_code, error, data)
		VALUES ('default', 'job-1', 0, 2, 'create', 'pending', '', '', '', '{"row":2}'),
			('default', 'job-1', 1, 3, 'error', 'invalid', '', 'required', 'userName is required', '{"row":3}')`)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	want := []string{`0 create pending  {"row":2}`, `1 error invalid  {"row":3}`}
	checkJobRows(t, st, "job-1", want)
	outcome := store.JobRowOutcome{Seq: 0, Status: "succeeded", ResourceID: "u-1"}
	if _, err := st.RecordChunk(ctx, store.DefaultTenant, "job-1", "", []store.JobRowOutcome{outcome}, nil); err != nil {
		t.Fatal(err)
	}
	want[0] = `0 create succeeded u-1 {"row":2}`
	checkJobRows(t, st, "job-1", want)
	if n, err := st.ExpireJobs(ctx, time.Now().Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("ExpireJobs = %d, %v; want 1", n, err)
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM csv_job_row_data`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("data rows left after expiry: %d, %v", left, err)
	}
}

func checkJobRows(t *testing.T, st *postgres.Store, id string, want []string) {
	t.Helper()
	rows, err := st.JobRows(context.Background(), store.DefaultTenant, id, store.JobRowQuery{AfterSeq: -1, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d %s %s %s %s", r.Seq, r.Action, r.Status, r.ResourceID, r.Data))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRecordingAnOutcomeTouchesNoIndex pins what makes a commit's outcome
// writes cheap (migration 0015): csv_job_rows no longer holds the row's
// data, no index covers a column RecordChunk changes (so its updates are
// HOT, on the same page, with no index entry added), and its pages keep
// room for those updates.
func TestRecordingAnOutcomeTouchesNoIndex(t *testing.T) {
	ctx := context.Background()
	_, conn := storeAndConn(t, pgtest.DSN(t))
	var indexed []string
	rows, err := conn.Query(ctx, `SELECT DISTINCT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = 'csv_job_rows'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexed = append(indexed, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(indexed, ","); got != "job_id,seq,tenant_id" {
		t.Errorf("csv_job_rows indexes the columns %s; want only its key (job_id,seq,tenant_id)", got)
	}
	var hasData bool
	var options []string
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'csv_job_rows'::regclass
			AND attname = 'data' AND NOT attisdropped),
		coalesce((SELECT reloptions FROM pg_class WHERE oid = 'csv_job_rows'::regclass), '{}')`).Scan(&hasData, &options)
	if err != nil {
		t.Fatal(err)
	}
	if hasData || !slices.Contains(options, "fillfactor=40") {
		t.Errorf("csv_job_rows: data column %v, options %v; want no data and fillfactor=40", hasData, options)
	}
}

// TestAnalyzeUsersRefreshesStatistics checks that AnalyzeUsers leaves the
// planner's row estimate of users at what the table holds.
func TestAnalyzeUsersRefreshesStatistics(t *testing.T) {
	ctx := context.Background()
	st, conn := storeAndConn(t, pgtest.DSN(t))
	now := time.Now().UTC()
	users := make([]store.User, 300)
	for i := range users {
		name := fmt.Sprintf("user%d@example.com", i)
		users[i] = store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: name, Active: true,
			Created: now, LastModified: now, Version: 1, Doc: []byte(`{"userName":"` + name + `"}`),
			Emails: []store.Email{{Value: name, Type: "work"}}}
	}
	if _, err := st.CreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := st.AnalyzeUsers(ctx); err != nil {
		t.Fatal(err)
	}
	var estimate float64
	if err := conn.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'user_emails'::regclass`).Scan(&estimate); err != nil || estimate != 300 {
		t.Fatalf("user_emails estimated at %v rows (%v), want 300", estimate, err)
	}
}
