package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// CSV jobs (store.Jobs).
//
// Leases: ClaimJob compares leases with the caller's now; every other
// method that takes an owner compares them with the process's clock
// (time.Now()) inside its transaction, after locking the job row. The
// lock (FOR NO KEY UPDATE) makes the check and the write atomic against a
// claim: ClaimJob's FOR UPDATE SKIP LOCKED skips a job whose worker is
// writing, and a worker waits for a claim that took its job to commit and
// then finds the new owner. Lease changes (claim, renew, release) are
// bookkeeping and leave Version alone; UpdateJob, RecordChunk's fn and
// ExpireJobs count as writes.

// jobColumns are read in this order by scanJob and written in this order
// by jobValues.
const jobColumns = `id, tenant_id, kind, profile, profile_version, state, actor, principal, file_name, file_sha256,
	file_size, total, done, counts, summary, detail, created, updated, expires, lease_owner, lease_until, version`

const insertJobSQL = `INSERT INTO csv_jobs (` + jobColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17, $18, $19, $20, $21, $22)`

// updateJobSQL writes every column but the key; $1 and $2 are the id and
// the tenant, as in jobValues.
const updateJobSQL = `UPDATE csv_jobs SET kind = $3, profile = $4, profile_version = $5, state = $6, actor = $7,
	principal = $8, file_name = $9, file_sha256 = $10, file_size = $11, total = $12, done = $13, counts = $14::jsonb,
	summary = $15, detail = $16, created = $17, updated = $18, expires = $19, lease_owner = $20, lease_until = $21,
	version = $22 WHERE id = $1 AND tenant_id = $2 RETURNING ` + jobColumns

func jobValues(j store.Job) ([]any, error) {
	counts, err := store.EncodeJobCounts(j.Counts)
	if err != nil {
		return nil, err
	}
	var until *time.Time
	if !j.LeaseUntil.IsZero() {
		until = &j.LeaseUntil
	}
	return []any{j.ID, j.TenantID, j.Kind, j.Profile, j.ProfileVersion, string(j.State), j.Actor, bytesOrEmpty(j.Principal),
		j.FileName, j.FileSHA256, j.FileSize, j.Total, j.Done, counts, j.Summary, bytesOrEmpty(j.Detail),
		j.Created, j.Updated, j.Expires, j.LeaseOwner, until, j.Version}, nil
}

// bytesOrEmpty keeps nil out of NOT NULL BYTEA columns (pgx sends nil as
// NULL).
func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanJob(row pgx.Row) (store.Job, error) {
	var j store.Job
	var state, counts string
	var until *time.Time
	err := row.Scan(&j.ID, &j.TenantID, &j.Kind, &j.Profile, &j.ProfileVersion, &state, &j.Actor, &j.Principal,
		&j.FileName, &j.FileSHA256, &j.FileSize, &j.Total, &j.Done, &counts, &j.Summary, &j.Detail,
		&j.Created, &j.Updated, &j.Expires, &j.LeaseOwner, &until, &j.Version)
	if err != nil {
		return store.Job{}, translate(err)
	}
	if j.Counts, err = store.DecodeJobCounts([]byte(counts)); err != nil {
		return store.Job{}, err
	}
	j.State, j.Created, j.Updated, j.Expires = store.JobState(state), j.Created.UTC(), j.Updated.UTC(), j.Expires.UTC()
	if until != nil {
		j.LeaseUntil = until.UTC()
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
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertJobSQL, args...); err != nil {
			return fmt.Errorf("create job %s: %w", j.ID, translate(err))
		}
		return store.EachUploadPart(upload, func(part int, body []byte) error {
			_, err := tx.Exec(ctx, `INSERT INTO csv_job_uploads (tenant_id, job_id, part, body) VALUES ($1, $2, $3, $4)`,
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
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = $1 AND id = $2`, tenant, id))
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
	q, args := `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = $1 ORDER BY created DESC, id DESC LIMIT $2`, []any{tenant, max(limit, 0)}
	if before != "" {
		q = `SELECT ` + jobColumns + ` FROM csv_jobs WHERE tenant_id = $1
			AND (created, id) < (SELECT created, id FROM csv_jobs WHERE tenant_id = $1 AND id = $3)
			ORDER BY created DESC, id DESC LIMIT $2`
		args = append(args, before)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", s.translateQuery(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Job, error) { return scanJob(row) })
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", s.translateQuery(ctx, err))
	}
	return out, nil
}

// JobUpload opens the job's upload until the job expires; each part is
// read with a query of its own when the reader reaches it.
func (s *Store) JobUpload(ctx context.Context, tenant, id string) (io.ReadCloser, error) {
	part := func(n int) ([]byte, bool, error) {
		var body []byte
		err := s.pool.QueryRow(ctx, `SELECT body FROM csv_job_uploads WHERE tenant_id = $1 AND job_id = $2 AND part = $3`, tenant, id, n).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
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

// lockJob reads and locks the job for a write and checks owner's lease.
func lockJob(ctx context.Context, tx pgx.Tx, tenant, id, owner string) (store.Job, error) {
	j, err := scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM csv_jobs WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`, tenant, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("lock job %s: %w", id, err)
	}
	if err := store.CheckJobLease(j, owner, time.Now()); err != nil {
		return store.Job{}, err
	}
	return j, nil
}

// updateLocked calls fn on the locked job j and writes what fn left, with
// the key and the version the store owns.
func updateLocked(ctx context.Context, tx pgx.Tx, j store.Job, fn func(*store.Job) error) (store.Job, error) {
	tenant, id, version := j.TenantID, j.ID, j.Version
	if err := fn(&j); err != nil {
		return store.Job{}, err
	}
	j.TenantID, j.ID, j.Version = tenant, id, version+1
	args, err := jobValues(j)
	if err != nil {
		return store.Job{}, fmt.Errorf("update job %s: %w", id, err)
	}
	out, err := scanJob(tx.QueryRow(ctx, updateJobSQL, args...))
	if err != nil {
		return store.Job{}, fmt.Errorf("update job %s: %w", id, err)
	}
	return out, nil
}

// UpdateJob is a read-modify-write of the locked job row.
func (s *Store) UpdateJob(ctx context.Context, tenant, id, owner string, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
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
// the transaction that locked it.
func (s *Store) ReplaceJobUpload(ctx context.Context, tenant, id, owner string, upload io.Reader, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		j, err := lockJob(ctx, tx, tenant, id, owner)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM csv_job_uploads WHERE tenant_id = $1 AND job_id = $2`, tenant, id); err != nil {
			return fmt.Errorf("replace upload of job %s: %w", id, translate(err))
		}
		err = store.EachUploadPart(upload, func(part int, body []byte) error {
			_, err := tx.Exec(ctx, `INSERT INTO csv_job_uploads (tenant_id, job_id, part, body) VALUES ($1, $2, $3, $4)`,
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

// RecordChunk writes the outcomes with one UPDATE ... FROM unnest, then
// the job through fn, in the transaction that locked the job.
func (s *Store) RecordChunk(ctx context.Context, tenant, id, owner string, outcomes []store.JobRowOutcome, fn func(*store.Job) error) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		j, err := lockJob(ctx, tx, tenant, id, owner)
		if err != nil {
			return err
		}
		if err := writeOutcomes(ctx, tx, tenant, id, store.LastOutcomes(outcomes)); err != nil {
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

// writeOutcomesSQL updates the rows named by the outcomes. The seq range
// ($9, $10: the outcomes' lowest and highest) lets the planner read just
// those rows by the primary key: joined on seq alone, a narrow table looks
// cheap enough to scan whole into a hash (a commit chunk's update read
// every row of a 100,000-row job, ten times the time of the range).
const writeOutcomesSQL = `UPDATE csv_job_rows r SET action = CASE WHEN o.action = '' THEN r.action ELSE o.action END,
		status = o.status, resource_id = o.resource_id, error_code = o.error_code, error = o.error
	FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
		AS o(seq, action, status, resource_id, error_code, error)
	WHERE r.tenant_id = $1 AND r.job_id = $2 AND r.seq BETWEEN $9 AND $10 AND r.seq = o.seq`

func writeOutcomes(ctx context.Context, tx pgx.Tx, tenant, id string, outcomes []store.JobRowOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	n := len(outcomes)
	seqs := make([]int32, n)
	actions, statuses, resources, codes, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lo, hi := outcomes[0].Seq, outcomes[0].Seq
	for i, o := range outcomes {
		seqs[i], actions[i], statuses[i], resources[i], codes[i], errs[i] = int32(o.Seq), o.Action, o.Status, o.ResourceID, o.ErrorCode, o.Error
		lo, hi = min(lo, o.Seq), max(hi, o.Seq)
	}
	_, err := tx.Exec(ctx, writeOutcomesSQL, tenant, id, seqs, actions, statuses, resources, codes, errs, lo, hi)
	if err != nil {
		return fmt.Errorf("record outcomes of job %s: %w", id, translate(err))
	}
	return nil
}

// jobRowChunk is how many rows one INSERT of InsertJobRows carries: large
// enough that 100,000 rows take 20 statements, small enough that one
// statement's arrays stay a few megabytes.
const jobRowChunk = 5000

// InsertJobRows upserts the rows with INSERT ... SELECT FROM unnest ...
// ON CONFLICT DO UPDATE, jobRowChunk rows a statement, in one transaction.
func (s *Store) InsertJobRows(ctx context.Context, tenant, id, owner string, rows []store.JobRow) error {
	rows = store.LastJobRows(rows)
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := lockJob(ctx, tx, tenant, id, owner); err != nil {
			return err
		}
		for start := 0; start < len(rows); start += jobRowChunk {
			if err := insertJobRows(ctx, tx, tenant, id, rows[start:min(start+jobRowChunk, len(rows))]); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertJobRows(ctx context.Context, tx pgx.Tx, tenant, id string, rows []store.JobRow) error {
	if len(rows) >= copyMin {
		err := copyJobRows(ctx, tx, tenant, id, rows)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return upsertJobRows(ctx, tx, tenant, id, rows)
}

// jobRowCopyColumns and jobRowDataCopyColumns are the columns
// copyJobRows writes.
var (
	jobRowCopyColumns     = []string{"tenant_id", "job_id", "seq", "number", "action", "status", "resource_id", "error_code", "error"}
	jobRowDataCopyColumns = []string{"tenant_id", "job_id", "seq", "data"}
)

// copyJobRows copies rows new to the job (a first validation's) into
// csv_job_rows and csv_job_row_data inside a savepoint: COPY costs
// PostgreSQL less than the upsert, which a validation run again after its
// worker died needs (the rows stored before are there); a row already
// there is store.ErrConflict, with the transaction as it was.
func copyJobRows(ctx context.Context, tx pgx.Tx, tenant, id string, rows []store.JobRow) error {
	narrow := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		return []any{tenant, id, int32(r.Seq), int32(r.Number), r.Action, r.Status, r.ResourceID, r.ErrorCode, r.Error}, nil
	})
	data := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return []any{tenant, id, int32(rows[i].Seq), bytesOrEmpty(rows[i].Data)}, nil
	})
	return copyInSavepoint(ctx, tx, "copy rows of job "+id,
		copyInto{"csv_job_rows", jobRowCopyColumns, narrow}, copyInto{"csv_job_row_data", jobRowDataCopyColumns, data})
}

// upsertJobRows writes rows whether or not the job has them already.
func upsertJobRows(ctx context.Context, tx pgx.Tx, tenant, id string, rows []store.JobRow) error {
	n := len(rows)
	seqs, numbers := make([]int32, n), make([]int32, n)
	actions, statuses, resources, codes, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	data := make([][]byte, n)
	for i, r := range rows {
		seqs[i], numbers[i], actions[i], statuses[i] = int32(r.Seq), int32(r.Number), r.Action, r.Status
		resources[i], codes[i], errs[i], data[i] = r.ResourceID, r.ErrorCode, r.Error, bytesOrEmpty(r.Data)
	}
	_, err := tx.Exec(ctx, insertJobRowsSQL, tenant, id, seqs, numbers, actions, statuses, resources, codes, errs, data)
	if err != nil {
		return fmt.Errorf("insert rows of job %s: %w", id, translate(err))
	}
	return nil
}

// insertJobRowsSQL upserts rows into csv_job_rows and their data into
// csv_job_row_data in one statement (migration 0015 keeps the two apart,
// so that recording an outcome never copies the data).
const insertJobRowsSQL = `WITH r AS MATERIALIZED (
		SELECT * FROM unnest($3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bytea[])
			AS r(seq, number, action, status, resource_id, error_code, error, data)),
	d AS (INSERT INTO csv_job_row_data (tenant_id, job_id, seq, data) SELECT $1, $2, r.seq, r.data FROM r
		ON CONFLICT (tenant_id, job_id, seq) DO UPDATE SET data = excluded.data)
	INSERT INTO csv_job_rows (tenant_id, job_id, seq, number, action, status, resource_id, error_code, error)
	SELECT $1, $2, r.seq, r.number, r.action, r.status, r.resource_id, r.error_code, r.error FROM r
	ON CONFLICT (tenant_id, job_id, seq) DO UPDATE SET number = excluded.number, action = excluded.action,
		status = excluded.status, resource_id = excluded.resource_id, error_code = excluded.error_code,
		error = excluded.error`

// JobRows returns the rows q selects, in seq order, each with its data.
// Its plan depends on the filters, so it runs as an unnamed statement
// (custom): the primary key walked from AfterSeq, the filters checked on
// the way (action and status have no index; see migration 0015). The data
// is a subquery by key, read only for the rows returned: as a join, the
// planner could pick a merge join that reads the data from the job's first
// row on every page or, on a job written since the last ANALYZE, a nested
// loop comparing every row with every other (seconds for a page).
func (s *Store) JobRows(ctx context.Context, tenant, id string, q store.JobRowQuery) ([]store.JobRow, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("rows of job %s: limit %d, want > 0", id, q.Limit)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	sql := `SELECT r.seq, r.number, r.action, r.status, r.resource_id, r.error_code, r.error,
			(SELECT d.data FROM csv_job_row_data d WHERE d.tenant_id = r.tenant_id AND d.job_id = r.job_id AND d.seq = r.seq)
		FROM csv_job_rows r WHERE r.tenant_id = $1 AND r.job_id = $2 AND r.seq > $3`
	args := []any{tenant, id, q.AfterSeq}
	if len(q.Actions) > 0 {
		args = append(args, q.Actions)
		sql += fmt.Sprintf(` AND r.action = ANY($%d)`, len(args))
	}
	if len(q.Statuses) > 0 {
		args = append(args, q.Statuses)
		sql += fmt.Sprintf(` AND r.status = ANY($%d)`, len(args))
	}
	args = append(args, q.Limit)
	rows, err := s.pool.Query(ctx, sql+fmt.Sprintf(` ORDER BY r.seq LIMIT $%d`, len(args)), custom(args...)...)
	if err != nil {
		return nil, fmt.Errorf("rows of job %s: %w", id, s.translateQuery(ctx, err))
	}
	out := []store.JobRow{}
	var r store.JobRow
	_, err = pgx.ForEachRow(rows, []any{&r.Seq, &r.Number, &r.Action, &r.Status, &r.ResourceID, &r.ErrorCode, &r.Error, &r.Data},
		func() error { out = append(out, r); return nil })
	if err != nil {
		return nil, fmt.Errorf("rows of job %s: %w", id, s.translateQuery(ctx, err))
	}
	return out, nil
}

// JobRowStats counts the job's rows by action and status, ordered by both
// (byte order, as the SQLite backend).
func (s *Store) JobRowStats(ctx context.Context, tenant, id string) ([]store.JobRowStat, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT action, status, count(*) FROM csv_job_rows WHERE tenant_id = $1 AND job_id = $2
		GROUP BY action, status ORDER BY action COLLATE "C", status COLLATE "C"`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("row stats of job %s: %w", id, s.translateQuery(ctx, err))
	}
	out := []store.JobRowStat{}
	var st store.JobRowStat
	_, err = pgx.ForEachRow(rows, []any{&st.Action, &st.Status, &st.N}, func() error { out = append(out, st); return nil })
	if err != nil {
		return nil, fmt.Errorf("row stats of job %s: %w", id, s.translateQuery(ctx, err))
	}
	return out, nil
}

// claimCandidateSQL picks and locks the oldest claimable job whose lease
// is free or expired at $1, skipping jobs other transactions hold (SKIP
// LOCKED: a replica never waits for, nor takes, a job another replica is
// claiming or writing) and committing jobs of tenants that have another
// committing job under a live lease, or are listed in $2.
const claimCandidateSQL = `SELECT ` + jobColumns + ` FROM csv_jobs j
	WHERE j.state IN ('validating', 'committing') AND (j.lease_until IS NULL OR j.lease_until <= $1)
		AND NOT (j.state = 'committing' AND (j.tenant_id = ANY($2) OR EXISTS (
			SELECT 1 FROM csv_jobs o WHERE o.tenant_id = j.tenant_id AND o.state = 'committing'
				AND o.id <> j.id AND o.lease_until > $1)))
	ORDER BY j.created, j.tenant_id, j.id LIMIT 1 FOR UPDATE SKIP LOCKED`

// commitLockSQL tries a transaction advisory lock per tenant, taken before
// a committing job is claimed. SKIP LOCKED alone cannot keep the commit
// rule: two replicas claiming two committing jobs of one tenant lock
// different rows and each sees the other's lease not yet committed. With
// the lock, the second claimer either finds it taken, and skips the
// tenant as SKIP LOCKED skips a row (the holder is claiming one of the
// tenant's commits or finding one under way), or takes it after the
// first committed, and its re-check (a new statement, so a new snapshot
// under READ COMMITTED) sees the first lease. Trying instead of waiting
// keeps a claim from ever waiting on another, so two claims holding one
// tenant's lock each and wanting the other's cannot deadlock. A partial
// unique index could not express "lease still live"; locking the tenants
// row would block the tenant's other writers.
const commitLockSQL = `SELECT pg_try_advisory_xact_lock(hashtextextended('scimbridge.csv_commit/' || $1, 0))`

// ClaimJob leases the oldest claimable job to owner (see claimCandidateSQL
// and commitLockSQL).
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		busy := []string{}
		for {
			j, err := scanJob(tx.QueryRow(ctx, claimCandidateSQL, now, busy))
			if err != nil {
				return fmt.Errorf("claim job: %w", err)
			}
			if j.State == store.JobCommitting {
				free, err := commitSlotFree(ctx, tx, j, now)
				if err != nil {
					return err
				}
				if !free {
					busy = append(busy, j.TenantID)
					continue
				}
			}
			out, err = setLease(ctx, tx, j, owner, now.Add(lease))
			return err
		}
	})
	return out, err
}

// commitSlotFree tries the tenant's commit lock and reports whether it got
// it and no other committing job of the tenant is under a live lease.
func commitSlotFree(ctx context.Context, tx pgx.Tx, j store.Job, now time.Time) (bool, error) {
	var locked, taken bool
	if err := tx.QueryRow(ctx, commitLockSQL, j.TenantID).Scan(&locked); err != nil || !locked {
		if err != nil {
			err = fmt.Errorf("claim job %s: commit lock: %w", j.ID, translate(err))
		}
		return false, err
	}
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM csv_jobs WHERE tenant_id = $1 AND state = 'committing'
		AND id <> $2 AND lease_until > $3)`, j.TenantID, j.ID, now).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("claim job %s: %w", j.ID, translate(err))
	}
	return !taken, nil
}

func setLease(ctx context.Context, tx pgx.Tx, j store.Job, owner string, until time.Time) (store.Job, error) {
	err := tx.QueryRow(ctx, `UPDATE csv_jobs SET lease_owner = $3, lease_until = $4 WHERE tenant_id = $1 AND id = $2
		RETURNING lease_until`, j.TenantID, j.ID, owner, until).Scan(&until)
	if err != nil {
		return store.Job{}, fmt.Errorf("lease job %s: %w", j.ID, translate(err))
	}
	j.LeaseOwner, j.LeaseUntil = owner, until.UTC()
	return j, nil
}

// RenewLease moves owner's live lease (by the process's clock) to until.
func (s *Store) RenewLease(ctx context.Context, tenant, id, owner string, until time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE csv_jobs SET lease_until = $4 WHERE tenant_id = $1 AND id = $2
		AND ($3 = '' OR (lease_owner = $3 AND lease_until > $5))`, tenant, id, owner, until, time.Now())
	if err != nil {
		return fmt.Errorf("renew lease of job %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return s.missingOr(ctx, tenant, id, fmt.Errorf("renew lease of job %s: %w", id, store.ErrLeaseLost))
}

// ReleaseJob clears owner's lease; a lease already lost is not an error.
func (s *Store) ReleaseJob(ctx context.Context, tenant, id, owner string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE csv_jobs SET lease_owner = '', lease_until = NULL WHERE tenant_id = $1 AND id = $2
		AND ($3 = '' OR lease_owner = $3)`, tenant, id, owner)
	if err != nil {
		return fmt.Errorf("release job %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return s.missingOr(ctx, tenant, id, nil)
}

// missingOr returns ErrNotFound when the tenant has no job id, else err:
// it tells an unknown job from a lease check that failed.
func (s *Store) missingOr(ctx context.Context, tenant, id string, err error) error {
	var exists bool
	if qerr := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM csv_jobs WHERE tenant_id = $1 AND id = $2)`,
		tenant, id).Scan(&exists); qerr != nil {
		return fmt.Errorf("job %s: %w", id, translate(qerr))
	}
	if !exists {
		return fmt.Errorf("job %s: %w", id, store.ErrNotFound)
	}
	return err
}

// ExpireJobs expires the jobs past their Expires, clears their leases and
// deletes their uploads and rows, in one statement.
func (s *Store) ExpireJobs(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `WITH e AS (
			UPDATE csv_jobs SET state = 'expired', lease_owner = '', lease_until = NULL, updated = $1, version = version + 1
			WHERE state <> 'expired' AND expires < $1 RETURNING tenant_id, id),
		u AS (DELETE FROM csv_job_uploads x USING e WHERE x.tenant_id = e.tenant_id AND x.job_id = e.id),
		r AS (DELETE FROM csv_job_rows x USING e WHERE x.tenant_id = e.tenant_id AND x.job_id = e.id),
		d AS (DELETE FROM csv_job_row_data x USING e WHERE x.tenant_id = e.tenant_id AND x.job_id = e.id)
		SELECT count(*) FROM e`, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire jobs: %w", translate(err))
	}
	return n, nil
}
