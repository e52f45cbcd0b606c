package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// CSV jobs (store.Jobs).
//
// Every write runs on the single writer connection in an immediate
// transaction, so a claim, a lease check and the write it guards never
// interleave with another writer's: that is what keeps replicas of one
// process from sharing a job (SQLite has no SKIP LOCKED, and needs none).
// ClaimJob compares leases with the caller's now; every other method that
// takes an owner compares them with the process's clock (time.Now()).
// Lease changes (claim, renew, release) leave Version alone; UpdateJob,
// RecordChunk's fn and ExpireJobs count as writes.

// jobColumns are read in this order by scanJob and written in this order
// by jobValues.
const jobColumns = `id, tenant_id, kind, profile, profile_version, state, actor, principal, file_name, file_sha256,
	file_size, total, done, counts, summary, detail, created, updated, expires, lease_owner, lease_until, version`

const insertJobSQL = `INSERT INTO csv_jobs (` + jobColumns + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)`

// updateJobSQL writes every column but the key; ?1 and ?2 are the id and
// the tenant, as in jobValues.
const updateJobSQL = `UPDATE csv_jobs SET kind = ?3, profile = ?4, profile_version = ?5, state = ?6, actor = ?7,
	principal = ?8, file_name = ?9, file_sha256 = ?10, file_size = ?11, total = ?12, done = ?13, counts = ?14,
	summary = ?15, detail = ?16, created = ?17, updated = ?18, expires = ?19, lease_owner = ?20, lease_until = ?21,
	version = ?22 WHERE id = ?1 AND tenant_id = ?2 RETURNING ` + jobColumns

func jobValues(j store.Job) ([]any, error) {
	counts, err := store.EncodeJobCounts(j.Counts)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.TenantID, j.Kind, j.Profile, j.ProfileVersion, string(j.State), j.Actor, bytesOrEmpty(j.Principal),
		j.FileName, j.FileSHA256, j.FileSize, j.Total, j.Done, counts, j.Summary, bytesOrEmpty(j.Detail),
		micros(j.Created), micros(j.Updated), micros(j.Expires), j.LeaseOwner, nullMicros(j.LeaseUntil), j.Version}, nil
}

// nullMicros is t in microseconds, NULL for the zero time.
func nullMicros(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: micros(t), Valid: !t.IsZero()}
}

// bytesOrEmpty keeps nil out of NOT NULL BLOB columns.
func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanJob(row rowScanner) (store.Job, error) {
	var j store.Job
	var state, counts string
	var created, updated, expires int64
	var until sql.NullInt64
	err := row.Scan(&j.ID, &j.TenantID, &j.Kind, &j.Profile, &j.ProfileVersion, &state, &j.Actor, &j.Principal,
		&j.FileName, &j.FileSHA256, &j.FileSize, &j.Total, &j.Done, &counts, &j.Summary, &j.Detail,
		&created, &updated, &expires, &j.LeaseOwner, &until, &j.Version)
	if err != nil {
		return store.Job{}, translate(err)
	}
	if j.Counts, err = store.DecodeJobCounts([]byte(counts)); err != nil {
		return store.Job{}, err
	}
	j.State, j.Created, j.Updated, j.Expires = store.JobState(state), fromMicros(created), fromMicros(updated), fromMicros(expires)
	if until.Valid {
		j.LeaseUntil = fromMicros(until.Int64)
	}
	return j, nil
}

// CreateJob stores the job (Version 1) and its upload in one transaction.
func (s *Store) CreateJob(ctx context.Context, j store.Job, upload io.Reader) error {
	j.Version = 1
	args, err := jobValues(j)
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertJobSQL, args...); err != nil {
			return fmt.Errorf("create job %s: %w", j.ID, translate(err))
		}
		return store.EachUploadPart(upload, func(part int, body []byte) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO csv_job_uploads (tenant_id, job_id, part, body) VALUES (?, ?, ?, ?)`,
				j.TenantID, j.ID, part, bytesOrEmpty(body))
			if err != nil {
				return fmt.Errorf("store upload of job %s: %w", j.ID, translate(err))
			}
			return nil
		})
	})
}

// GetJob returns one job of the tenant.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (store.Job, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

// ListJobs returns the tenant's jobs newest first, keyset-paged after the
// job named by before (an unknown before ends the list: nothing is after
// it).
func (s *Store) ListJobs(ctx context.Context, tenant string, limit int, before string) ([]store.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	q, args := `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = ?1 ORDER BY created DESC, id DESC LIMIT ?2`, []any{tenant, max(limit, 0)}
	if before != "" {
		q = `SELECT ` + jobColumns + ` FROM csv_jobs WHERE tenant_id = ?1
			AND (created, id) < (SELECT created, id FROM csv_jobs WHERE tenant_id = ?1 AND id = ?3)
			ORDER BY created DESC, id DESC LIMIT ?2`
		args = append(args, before)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", s.translateQuery(ctx, err))
	}
	defer rows.Close()
	out := []store.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", s.translateQuery(ctx, err))
	}
	return out, nil
}

// JobUpload opens the job's upload until the job expires; each part is
// read with a query of its own when the reader reaches it.
func (s *Store) JobUpload(ctx context.Context, tenant, id string) (io.ReadCloser, error) {
	part := func(n int) ([]byte, bool, error) {
		var body []byte
		err := s.r.QueryRowContext(ctx, `SELECT body FROM csv_job_uploads WHERE tenant_id = ? AND job_id = ? AND part = ?`, tenant, id, n).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("upload of job %s, part %d: %w", id, n, translate(err))
		}
		return body, true, nil
	}
	first, ok, err := part(0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("upload of job %s: %w", id, store.ErrNotFound)
	}
	return store.NewPartReader(func(n int) ([]byte, bool, error) {
		if n == 0 {
			return first, true, nil
		}
		return part(n)
	}), nil
}

// lockJob reads the job inside a write transaction (which already holds
// the database's write lock) and checks owner's lease.
func lockJob(ctx context.Context, tx *sql.Tx, tenant, id, owner string) (store.Job, error) {
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("lock job %s: %w", id, err)
	}
	if err := store.CheckJobLease(j, owner, time.Now()); err != nil {
		return store.Job{}, err
	}
	return j, nil
}

// updateLocked calls fn on the job j read in tx and writes what fn left,
// with the key and the version the store owns.
func updateLocked(ctx context.Context, tx *sql.Tx, j store.Job, fn func(*store.Job) error) (store.Job, error) {
	tenant, id, version := j.TenantID, j.ID, j.Version
	if err := fn(&j); err != nil {
		return store.Job{}, err
	}
	j.TenantID, j.ID, j.Version = tenant, id, version+1
	args, err := jobValues(j)
	if err != nil {
		return store.Job{}, fmt.Errorf("update job %s: %w", id, err)
	}
	out, err := scanJob(tx.QueryRowContext(ctx, updateJobSQL, args...))
	if err != nil {
		return store.Job{}, fmt.Errorf("update job %s: %w", id, err)
	}
	return out, nil
}

// UpdateJob is a read-modify-write in one immediate transaction.
func (s *Store) UpdateJob(ctx context.Context, tenant, id, owner string, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := lockJob(ctx, tx, tenant, id, owner)
		if err != nil {
			return err
		}
		out, err = updateLocked(ctx, tx, j, fn)
		return err
	})
	return out, err
}

// ReplaceJobUpload swaps the job's stored file and updates the job in
// one transaction.
func (s *Store) ReplaceJobUpload(ctx context.Context, tenant, id, owner string, upload io.Reader, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := lockJob(ctx, tx, tenant, id, owner)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM csv_job_uploads WHERE tenant_id = ? AND job_id = ?`, tenant, id); err != nil {
			return fmt.Errorf("replace upload of job %s: %w", id, translate(err))
		}
		err = store.EachUploadPart(upload, func(part int, body []byte) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO csv_job_uploads (tenant_id, job_id, part, body) VALUES (?, ?, ?, ?)`,
				tenant, id, part, bytesOrEmpty(body))
			if err != nil {
				return fmt.Errorf("store upload of job %s: %w", id, translate(err))
			}
			return nil
		})
		if err != nil {
			return err
		}
		out, err = updateLocked(ctx, tx, j, fn)
		return err
	})
	return out, err
}

// RecordChunk writes the outcomes with one prepared UPDATE (SQLite runs in
// the process: a statement per row costs no round trip), then the job
// through fn, in one transaction.
func (s *Store) RecordChunk(ctx context.Context, tenant, id, owner string, outcomes []store.JobRowOutcome, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := lockJob(ctx, tx, tenant, id, owner)
		if err != nil {
			return err
		}
		if err := writeOutcomes(ctx, tx, tenant, id, outcomes); err != nil {
			return err
		}
		out = j
		if fn != nil {
			out, err = updateLocked(ctx, tx, j, fn)
		}
		return err
	})
	return out, err
}

func writeOutcomes(ctx context.Context, tx *sql.Tx, tenant, id string, outcomes []store.JobRowOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `UPDATE csv_job_rows SET action = CASE WHEN ?4 = '' THEN action ELSE ?4 END,
		status = ?5, resource_id = ?6, error_code = ?7, error = ?8 WHERE tenant_id = ?1 AND job_id = ?2 AND seq = ?3`)
	if err != nil {
		return fmt.Errorf("record outcomes of job %s: %w", id, translate(err))
	}
	defer st.Close()
	for _, o := range outcomes {
		if _, err := st.ExecContext(ctx, tenant, id, o.Seq, o.Action, o.Status, o.ResourceID, o.ErrorCode, o.Error); err != nil {
			return fmt.Errorf("record outcome of row %d of job %s: %w", o.Seq, id, translate(err))
		}
	}
	return nil
}

// jobRowChunk is how many rows one INSERT of InsertJobRows carries: 10 ×
// 500 variables, well under SQLite's limit of 32,766.
const jobRowChunk = 500

// InsertJobRows upserts the rows with a prepared multi-row INSERT ... ON
// CONFLICT DO UPDATE, jobRowChunk rows a statement, in one transaction.
func (s *Store) InsertJobRows(ctx context.Context, tenant, id, owner string, rows []store.JobRow) error {
	rows = store.LastJobRows(rows)
	full := len(rows) / jobRowChunk * jobRowChunk
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := lockJob(ctx, tx, tenant, id, owner); err != nil {
			return err
		}
		if err := insertFullChunks(ctx, tx, tenant, id, rows[:full]); err != nil {
			return err
		}
		if rest := rows[full:]; len(rest) > 0 {
			if _, err := tx.ExecContext(ctx, insertRowsSQL(len(rest)), rowArgs(tenant, id, rest)...); err != nil {
				return fmt.Errorf("insert rows of job %s: %w", id, translate(err))
			}
		}
		return nil
	})
}

// insertFullChunks inserts rows, a multiple of jobRowChunk, with one
// prepared statement.
func insertFullChunks(ctx context.Context, tx *sql.Tx, tenant, id string, rows []store.JobRow) error {
	if len(rows) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, insertRowsSQL(jobRowChunk))
	if err != nil {
		return fmt.Errorf("insert rows of job %s: %w", id, translate(err))
	}
	defer st.Close()
	for start := 0; start < len(rows); start += jobRowChunk {
		if _, err := st.ExecContext(ctx, rowArgs(tenant, id, rows[start:start+jobRowChunk])...); err != nil {
			return fmt.Errorf("insert rows of job %s: %w", id, translate(err))
		}
	}
	return nil
}

// insertRowsSQL is the upsert of n rows, 10 values a row (rowArgs). The
// placeholders are anonymous: the driver looks each numbered or named one
// up by name, which costs time quadratic in the number of variables.
func insertRowsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO csv_job_rows (tenant_id, job_id, seq, number, action, status, resource_id, error_code, error, data) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (tenant_id, job_id, seq) DO UPDATE SET number = excluded.number, action = excluded.action,
		status = excluded.status, resource_id = excluded.resource_id, error_code = excluded.error_code,
		error = excluded.error, data = excluded.data`)
	return b.String()
}

func rowArgs(tenant, id string, rows []store.JobRow) []any {
	args := make([]any, 0, 10*len(rows))
	for _, r := range rows {
		args = append(args, tenant, id, r.Seq, r.Number, r.Action, r.Status, r.ResourceID, r.ErrorCode, r.Error, bytesOrEmpty(r.Data))
	}
	return args
}

// JobRows returns the rows q selects, in seq order.
func (s *Store) JobRows(ctx context.Context, tenant, id string, q store.JobRowQuery) ([]store.JobRow, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("rows of job %s: limit %d, want > 0", id, q.Limit)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	query := `SELECT seq, number, action, status, resource_id, error_code, error, data FROM csv_job_rows
		WHERE tenant_id = ? AND job_id = ? AND seq > ?`
	args := []any{tenant, id, q.AfterSeq}
	if len(q.Actions) > 0 {
		query += ` AND action IN (` + placeholders(len(q.Actions)) + `)`
		args = append(args, anySlice(q.Actions)...)
	}
	if len(q.Statuses) > 0 {
		query += ` AND status IN (` + placeholders(len(q.Statuses)) + `)`
		args = append(args, anySlice(q.Statuses)...)
	}
	rows, err := s.r.QueryContext(ctx, query+` ORDER BY seq LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("rows of job %s: %w", id, s.translateQuery(ctx, err))
	}
	defer rows.Close()
	out := []store.JobRow{}
	for rows.Next() {
		var r store.JobRow
		if err := rows.Scan(&r.Seq, &r.Number, &r.Action, &r.Status, &r.ResourceID, &r.ErrorCode, &r.Error, &r.Data); err != nil {
			return nil, fmt.Errorf("scan row of job %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows of job %s: %w", id, s.translateQuery(ctx, err))
	}
	return out, nil
}

// JobRowStats counts the job's rows by action and status, ordered by both.
func (s *Store) JobRowStats(ctx context.Context, tenant, id string) ([]store.JobRowStat, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.r.QueryContext(ctx, `SELECT action, status, count(*) FROM csv_job_rows WHERE tenant_id = ? AND job_id = ?
		GROUP BY action, status ORDER BY action, status`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("row stats of job %s: %w", id, s.translateQuery(ctx, err))
	}
	defer rows.Close()
	out := []store.JobRowStat{}
	for rows.Next() {
		var st store.JobRowStat
		if err := rows.Scan(&st.Action, &st.Status, &st.N); err != nil {
			return nil, fmt.Errorf("scan row stats of job %s: %w", id, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("row stats of job %s: %w", id, s.translateQuery(ctx, err))
	}
	return out, nil
}

// claimCandidateSQL finds the oldest claimable job whose lease is free or
// expired at ?1, skipping committing jobs of tenants that have another
// committing job under a live lease. It runs in the claim's write
// transaction, so nothing changes between it and the lease it leads to.
const claimCandidateSQL = `SELECT ` + jobColumns + ` FROM csv_jobs j
	WHERE j.state IN ('validating', 'committing') AND (j.lease_until IS NULL OR j.lease_until <= ?1)
		AND NOT (j.state = 'committing' AND EXISTS (
			SELECT 1 FROM csv_jobs o WHERE o.tenant_id = j.tenant_id AND o.state = 'committing'
				AND o.id <> j.id AND o.lease_until > ?1))
	ORDER BY j.created, j.tenant_id, j.id LIMIT 1`

// ClaimJob leases the oldest claimable job to owner, on the single writer.
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, claimCandidateSQL, micros(now)))
		if err != nil {
			return fmt.Errorf("claim job: %w", err)
		}
		until := micros(now.Add(lease))
		_, err = tx.ExecContext(ctx, `UPDATE csv_jobs SET lease_owner = ?, lease_until = ? WHERE tenant_id = ? AND id = ?`,
			owner, until, j.TenantID, j.ID)
		if err != nil {
			return fmt.Errorf("lease job %s: %w", j.ID, translate(err))
		}
		j.LeaseOwner, j.LeaseUntil = owner, fromMicros(until)
		out = j
		return nil
	})
	return out, err
}

// RenewLease moves owner's live lease (by the process's clock) to until.
func (s *Store) RenewLease(ctx context.Context, tenant, id, owner string, until time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE csv_jobs SET lease_until = ?4 WHERE tenant_id = ?1 AND id = ?2
		AND (?3 = '' OR (lease_owner = ?3 AND lease_until > ?5))`, tenant, id, owner, micros(until), micros(time.Now()))
	if err != nil {
		return fmt.Errorf("renew lease of job %s: %w", id, translate(err))
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return s.missingOr(ctx, tenant, id, fmt.Errorf("renew lease of job %s: %w", id, store.ErrLeaseLost))
}

// ReleaseJob clears owner's lease; a lease already lost is not an error.
func (s *Store) ReleaseJob(ctx context.Context, tenant, id, owner string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE csv_jobs SET lease_owner = '', lease_until = NULL WHERE tenant_id = ?1 AND id = ?2
		AND (?3 = '' OR lease_owner = ?3)`, tenant, id, owner)
	if err != nil {
		return fmt.Errorf("release job %s: %w", id, translate(err))
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return s.missingOr(ctx, tenant, id, nil)
}

// missingOr returns ErrNotFound when the tenant has no job id, else err:
// it tells an unknown job from a lease check that failed.
func (s *Store) missingOr(ctx context.Context, tenant, id string, err error) error {
	var exists bool
	if qerr := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM csv_jobs WHERE tenant_id = ? AND id = ?)`,
		tenant, id).Scan(&exists); qerr != nil {
		return fmt.Errorf("job %s: %w", id, translate(qerr))
	}
	if !exists {
		return fmt.Errorf("job %s: %w", id, store.ErrNotFound)
	}
	return err
}

// expiringJobs selects the jobs ExpireJobs expires at ?1.
const expiringJobs = `SELECT tenant_id, id FROM csv_jobs WHERE state <> 'expired' AND expires < ?1`

// ExpireJobs expires the jobs past their Expires, clears their leases and
// deletes their uploads and rows, in one transaction.
func (s *Store) ExpireJobs(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		at := micros(now)
		for _, table := range []string{"csv_job_uploads", "csv_job_rows"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE (tenant_id, job_id) IN (`+expiringJobs+`)`, at); err != nil {
				return fmt.Errorf("expire jobs: delete from %s: %w", table, translate(err))
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE csv_jobs SET state = 'expired', lease_owner = '', lease_until = NULL,
			updated = ?1, version = version + 1 WHERE state <> 'expired' AND expires < ?1`, at)
		if err != nil {
			return fmt.Errorf("expire jobs: %w", translate(err))
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
