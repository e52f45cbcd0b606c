package csvbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// errStopped ends a job's step early: the job left the state the worker
// was working on (cancelled by a request) or the lease was lost.
var errStopped = errors.New("csvbridge: job stopped")

// Run works on jobs until ctx ends: it claims a job (from any replica's
// queue), validates or commits it, and looks again; when there is nothing
// to do it waits for Wake or the poll interval. Expired jobs are dropped
// on the way. Run returns ctx's error.
func (j *Jobs) Run(ctx context.Context) error {
	lastExpire := time.Time{}
	for {
		if now := j.now(); now.Sub(lastExpire) > time.Hour {
			if _, err := j.Expire(ctx); err != nil && ctx.Err() == nil {
				j.log.WarnContext(ctx, "expire csv jobs", "err", err)
			}
			lastExpire = now
		}
		worked, err := j.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			j.log.ErrorContext(ctx, "csv job", "err", err)
		}
		if worked {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-j.wake:
		case <-time.After(j.poll):
		}
	}
}

// Expire marks every job past its retention as expired and drops its
// upload and rows; it returns how many. Run calls it hourly.
func (j *Jobs) Expire(ctx context.Context) (int, error) {
	n, err := j.st.ExpireJobs(ctx, j.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("expire jobs: %w", err)
	}
	if n > 0 {
		j.log.InfoContext(ctx, "csv jobs expired", "count", n)
	}
	return n, nil
}

// RunOnce claims one job and works on it until it leaves a claimable
// state; it reports whether there was a job.
func (j *Jobs) RunOnce(ctx context.Context) (bool, error) {
	job, err := j.st.ClaimJob(ctx, j.owner, j.now().UTC(), j.lease)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim job: %w", err)
	}
	defer func() {
		if err := j.st.ReleaseJob(context.WithoutCancel(ctx), job.TenantID, job.ID, j.owner); err != nil {
			j.log.WarnContext(ctx, "release csv job", "job", job.ID, "err", err)
		}
	}()
	switch {
	case job.Kind == KindExport:
		err = j.runExport(ctx, job)
	case job.State == store.JobValidating && job.Kind == KindAction:
		err = j.planAction(ctx, job)
	case job.State == store.JobValidating:
		err = j.validate(ctx, job)
	case job.State == store.JobCommitting:
		err = j.commit(ctx, job)
	}
	switch {
	case errors.Is(err, errStopped) || errors.Is(err, store.ErrLeaseLost):
		return true, nil
	case errors.Is(err, store.ErrUnavailable):
		// The database is busy: not the job's fault. The lease is released
		// and the job is claimed again on a later round (a validation
		// starts over, a commit settles its chunk in flight and goes on).
		j.log.WarnContext(ctx, "csv job paused: the database is busy", "job", job.ID, "err", err)
		return false, nil
	case err != nil && ctx.Err() == nil:
		j.fail(ctx, job, err)
	}
	return true, err
}

// fail ends a job that cannot go on (its upload is unreadable, the
// profile vanished, an unexpected store error repeated).
func (j *Jobs) fail(ctx context.Context, job store.Job, cause error) {
	_, err := j.st.UpdateJob(context.WithoutCancel(ctx), job.TenantID, job.ID, j.owner, func(cur *store.Job) error {
		if cur.State.Final() {
			return errStopped
		}
		cur.State, cur.Updated = store.JobFailed, j.now().UTC()
		cur.Summary = finalSummaryOf(cur.Kind, store.JobFailed, cur.Counts) + " An internal error stopped it; it has been logged."
		return nil
	})
	j.log.ErrorContext(ctx, "csv job failed", "job", job.ID, "err", cause, "update_err", err)
}

// principalOf is the caller a job acts as.
func principalOf(job store.Job) (policy.Principal, error) {
	var p policy.Principal
	if err := json.Unmarshal(job.Principal, &p); err != nil {
		return p, fmt.Errorf("job %s principal: %w", job.ID, err)
	}
	if p.Tenant != job.TenantID {
		return p, fmt.Errorf("job %s principal belongs to another tenant", job.ID)
	}
	return p, nil
}

// renew extends the lease and stops the step if the job left state.
func (j *Jobs) renew(ctx context.Context, job store.Job, state store.JobState, fn func(*store.Job)) error {
	_, err := j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, func(cur *store.Job) error {
		if cur.State != state {
			return errStopped
		}
		if fn != nil {
			fn(cur)
		}
		cur.Updated = j.now().UTC()
		cur.LeaseUntil = cur.Updated.Add(j.lease)
		return nil
	})
	return err
}

// validate reads the upload, plans every row in chunks and stores the
// plan, then marks the job validated (or invalid). A restart plans again
// from the first row; rows are stored by position, so nothing doubles.
func (j *Jobs) validate(ctx context.Context, job store.Job) error {
	p, err := principalOf(job)
	if err != nil {
		return err
	}
	prof, err := j.find(ctx, job.TenantID, job.Profile, job.ProfileVersion)
	if err != nil {
		return fmt.Errorf("job %s: profile %q: %w", job.ID, job.Profile, err)
	}
	options := detailOf(job).Options
	im, upload, err := j.open(ctx, job, p, prof, options)
	var fe *FileError
	if errors.As(err, &fe) {
		return j.finishValidation(ctx, job, prof, &Detail{Issues: fe.Issues, Options: options}, nil)
	}
	if err != nil {
		return err
	}
	defer upload.Close()
	d := &Detail{Format: ptr(im.Format()), Columns: columnMappings(im.Mapping()), Header: im.Mapping().header, Options: options}
	planner := NewPlanner(j.dir, p, im.Mapping())
	warnings, seq := 0, 0
	linked := map[int]int{} // row number -> position, for rows with references
	// Rows are stored in the background while the next chunk is planned.
	var storing chan error
	wait := func() error {
		if storing == nil {
			return nil
		}
		err := <-storing
		storing = nil
		return err
	}
	chunks, stop := readChunks(im, j.chunk)
	defer stop()
	for {
		c := <-chunks
		rows, ferr := c.rows, c.err
		if errors.As(ferr, &fe) {
			if err := wait(); err != nil {
				return err
			}
			d.Issues = fe.Issues
			return j.finishValidation(ctx, job, prof, d, nil)
		}
		if ferr != nil && !errors.Is(ferr, io.EOF) {
			_ = wait()
			return fmt.Errorf("job %s: read upload: %w", job.ID, ferr)
		}
		if len(rows) > 0 {
			planned, n, err := j.planChunk(ctx, job, planner, rows, seq, linked)
			if werr := wait(); err == nil {
				err = werr
			}
			if err != nil {
				return err
			}
			warnings += n
			storing = j.storeRows(ctx, job, planned, seq)
			seq += len(rows)
		}
		if errors.Is(ferr, io.EOF) {
			if err := wait(); err != nil {
				return err
			}
			if err := j.failRows(ctx, job, linked, planner.Finish()); err != nil {
				return err
			}
			d.NewRoles = planner.NewRoles()
			return j.finishValidation(ctx, job, prof, d, map[string]int{"warning": warnings, "rolesAdded": len(d.NewRoles)})
		}
	}
}

// open opens a job's upload for reading under the profile as the tenant
// uses it (its organisation fields, its settings, the upload's options).
// A *FileError is the file's fault; the caller closes the upload.
func (j *Jobs) open(ctx context.Context, job store.Job, p policy.Principal, prof *Profile, options map[string]string) (*Import, io.Closer, error) {
	ts, err := j.dir.Settings(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: settings: %w", job.ID, err)
	}
	reg, err := j.dir.TenantRegistry(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: schema: %w", job.ID, err)
	}
	upload, err := j.st.JobUpload(ctx, job.TenantID, job.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s upload: %w", job.ID, err)
	}
	env := Env{Tenant: job.TenantID, Settings: &ts, Options: options}
	im, err := OpenEnv(upload, prof.ForTenant(&ts), reg, j.Limits(), env)
	if err != nil {
		upload.Close()
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("job %s: open upload: %w", job.ID, err)
	}
	return im, upload, nil
}

// storeRows encodes a chunk's planned rows as stored from position seq
// and stores them with the progress (the rows read so far), in the
// background. The planner is done with them: nothing changes them while
// they are encoded.
func (j *Jobs) storeRows(ctx context.Context, job store.Job, planned []Planned, seq int) chan error {
	ch := make(chan error, 1)
	done := seq + len(planned)
	go func() {
		rows := make([]store.JobRow, len(planned))
		for i := range planned {
			var err error
			if rows[i], err = jobRow(seq+i, &planned[i]); err != nil {
				ch <- fmt.Errorf("job %s: %w", job.ID, err)
				return
			}
		}
		if err := j.st.InsertJobRows(ctx, job.TenantID, job.ID, j.owner, rows); err != nil {
			ch <- fmt.Errorf("job %s: store rows: %w", job.ID, err)
			return
		}
		ch <- j.renew(ctx, job, store.JobValidating, func(cur *store.Job) { cur.Done, cur.Total = done, done })
	}()
	return ch
}

func ptr[T any](v T) *T { return &v }

// readChunk is a chunk read by readChunks: rows, and the error that
// ended the reading (io.EOF after the last row) when it did.
type readChunk struct {
	rows []Row
	err  error
}

// readChunks reads, maps and checks the rows of im, n at a time, on a
// goroutine of its own, one chunk ahead of the caller planning the chunk
// before; the last chunk sent has the error. stop ends the reading and
// returns once the goroutine no longer touches im (before the upload
// under it is closed).
func readChunks(im *Import, n int) (<-chan readChunk, func()) {
	out, quit, done := make(chan readChunk, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			rows, err := nextChunk(im, n)
			select {
			case out <- readChunk{rows, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out, func() { close(quit); <-done }
}

// nextChunk reads up to n rows; the error is io.EOF after the last row.
func nextChunk(im *Import, n int) ([]Row, error) {
	rows := make([]Row, 0, n)
	for len(rows) < n {
		row, err := im.Next()
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// planChunk plans rows as stored from position seq; it also returns the
// number of rows with warnings.
func (j *Jobs) planChunk(ctx context.Context, job store.Job, pl *Planner, rows []Row, seq int, linked map[int]int) ([]Planned, int, error) {
	planned, err := pl.Plan(ctx, rows)
	if err != nil {
		return nil, 0, fmt.Errorf("job %s: plan rows: %w", job.ID, err)
	}
	warnings := 0
	for i := range planned {
		if hasWarning(planned[i].Issues) {
			warnings++
		}
		if len(planned[i].Links) > 0 {
			linked[planned[i].Number] = seq + i
		}
	}
	return planned, warnings, nil
}

// failRows stores again, as errors, rows the planner failed once the
// whole file was read (references nothing in the file resolves).
func (j *Jobs) failRows(ctx context.Context, job store.Job, linked map[int]int, issues []RowIssue) error {
	var out []store.JobRow
	for _, ri := range issues {
		seq, ok := linked[ri.Row]
		if !ok {
			continue
		}
		rows, err := j.st.JobRows(ctx, job.TenantID, job.ID, store.JobRowQuery{AfterSeq: seq - 1, Limit: 1})
		if err != nil || len(rows) != 1 {
			return fmt.Errorf("job %s: row %d: %w", job.ID, ri.Row, err)
		}
		pr, err := decodeRow(rows[0])
		if err != nil {
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
		pr.fail(ri.Issue)
		pr.Links = nil
		jr, err := jobRow(seq, &pr)
		if err != nil {
			return err
		}
		out = append(out, jr)
	}
	if len(out) == 0 {
		return nil
	}
	if err := j.st.InsertJobRows(ctx, job.TenantID, job.ID, j.owner, out); err != nil {
		return fmt.Errorf("job %s: store rows: %w", job.ID, err)
	}
	return nil
}

func hasWarning(issues []Issue) bool {
	for _, is := range issues {
		if is.Severity == SeverityWarning {
			return true
		}
	}
	return false
}

// jobRow is a planned row as stored.
func jobRow(seq int, pr *Planned) (store.JobRow, error) {
	data, err := pr.appendJSON(nil)
	if err != nil {
		return store.JobRow{}, fmt.Errorf("encode row %d: %w", pr.Number, err)
	}
	r := store.JobRow{Seq: seq, Number: pr.Number, Action: string(pr.Action), ResourceID: pr.ResourceID, Data: data}
	switch {
	case pr.Action == PlanError:
		r.Status = StatusInvalid
		r.ErrorCode, r.Error = errorsOf(pr.Issues)
	case pr.Action.Writes():
		r.Status = StatusPending
	default:
		r.Status = StatusSkipped
	}
	return r, nil
}

// errorsOf is the first error's code and every error's text (its column,
// message and hint; the row is given apart), for the row's _error_code
// and _error report cells.
func errorsOf(issues []Issue) (code, text string) {
	var parts []string
	for _, is := range issues {
		if is.Severity != SeverityError {
			continue
		}
		if code == "" {
			code = is.Code
		}
		is.Row = 0 // the row is the report's _row and the API's row
		parts = append(parts, is.String())
	}
	return code, strings.Join(parts, "; ")
}

// finishValidation stores the file facts and the planned counts and
// moves the job to validated, or invalid when it cannot be committed.
func (j *Jobs) finishValidation(ctx context.Context, job store.Job, prof *Profile, d *Detail, extra map[string]int) error {
	counts := map[string]int{}
	if len(d.Issues) == 0 {
		stats, err := j.st.JobRowStats(ctx, job.TenantID, job.ID)
		if err != nil {
			return fmt.Errorf("job %s: count rows: %w", job.ID, err)
		}
		counts = plannedCounts(stats)
	}
	for k, v := range extra {
		counts[k] = v
	}
	state := store.JobValidated
	if len(d.Issues) > 0 || (prof.Commit == CommitAllOrNothing && counts["error"] > 0) {
		state = store.JobInvalid
	}
	_, err := j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, func(cur *store.Job) error {
		if cur.State != store.JobValidating {
			return errStopped
		}
		cur.State, cur.Counts, cur.Updated = state, counts, j.now().UTC()
		cur.Summary = previewSummary(cur.Kind, prof, state, counts, d.Issues)
		cur.Done, cur.Total = counts["total"], counts["total"]
		return setDetail(cur, d)
	})
	return err
}

// plannedCounts turns row statistics into preview counts (by action).
func plannedCounts(stats []store.JobRowStat) map[string]int {
	c := map[string]int{}
	for _, s := range stats {
		c["total"] += s.N
		c[s.Action] += s.N
	}
	return c
}

// outcomeCounts turns row statistics into the counts of a committed job:
// what succeeded by action, what failed (at validation or commit) as
// errors, excluded rows apart; rows never applied (a cancelled commit)
// count only in the total.
func outcomeCounts(stats []store.JobRowStat) map[string]int {
	c := map[string]int{}
	for _, s := range stats {
		c["total"] += s.N
		switch s.Status {
		case StatusSucceeded, StatusSkipped:
			c[s.Action] += s.N
		case StatusFailed, StatusInvalid:
			c["error"] += s.N
		case StatusLinking:
			c[s.Action] += s.N // written; its references are set next
		case StatusExcluded:
			c["excluded"] += s.N
		}
	}
	return c
}
