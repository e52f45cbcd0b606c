package csvbridge

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// beforeLoad runs once per commit, before any row is applied. An
// all-or-nothing profile validates the file again (seed 003: "another
// validation is performed and if still no error, the users are loaded"):
// if a row now fails, or would do something other than the preview said
// (someone changed the directory meanwhile), nothing is loaded and the job
// fails with the reason. Then the roles the rows name that the catalogue
// lacks are added to it; how many is the "Roles Added" count (a worker
// that dies between adding them and recording it counts them as already
// there when it starts over).
func (j *Jobs) beforeLoad(ctx context.Context, job store.Job, p policy.Principal, prof *Profile) (store.Job, error) {
	d := detailOf(job)
	if prof.Commit == CommitAllOrNothing && !d.Rechecked {
		problem, err := j.recheck(ctx, job, p, prof, d.Options)
		if err != nil {
			return job, err
		}
		if problem != "" {
			return job, j.refuseLoad(ctx, job, problem)
		}
		d.Rechecked = true
	}
	if len(d.NewRoles) > 0 && d.RolesAdded == nil {
		added, err := j.dir.EnsureRoles(ctx, p, d.NewRoles)
		if err != nil {
			return job, fmt.Errorf("job %s: add roles: %w", job.ID, err)
		}
		d.RolesAdded = ptr(len(added))
	}
	return j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, j.stillCommitting(func(cur *store.Job) {
		cd := detailOf(*cur)
		cd.Rechecked, cd.RolesAdded = d.Rechecked, d.RolesAdded
		_ = setDetail(cur, cd) // Detail holds plain values; it always encodes
	}))
}

// recheck plans the whole file again (with the directory's dry run) and
// returns what now differs from the stored preview: a row that fails, or
// whose action changed; "" when nothing does.
func (j *Jobs) recheck(ctx context.Context, job store.Job, p policy.Principal, prof *Profile, options map[string]string) (string, error) {
	im, upload, err := j.open(ctx, job, p, prof, options)
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Issues[0].String(), nil
	}
	if err != nil {
		return "", err
	}
	defer upload.Close()
	planner := NewPlanner(j.dir, p, im.Mapping())
	for seq := 0; ; {
		rows, ferr := nextChunk(im, j.chunk)
		if errors.As(ferr, &fe) {
			return fe.Issues[0].String(), nil
		}
		if ferr != nil && !errors.Is(ferr, io.EOF) {
			return "", fmt.Errorf("job %s: read upload: %w", job.ID, ferr)
		}
		if len(rows) > 0 {
			problem, err := j.recheckChunk(ctx, job, planner, rows, seq)
			if problem != "" || err != nil {
				return problem, err
			}
			seq += len(rows)
		}
		if errors.Is(ferr, io.EOF) {
			if late := planner.Finish(); len(late) > 0 {
				return late[0].Issue.String(), nil
			}
			return "", nil
		}
	}
}

func (j *Jobs) recheckChunk(ctx context.Context, job store.Job, planner *Planner, rows []Row, seq int) (string, error) {
	planned, err := planner.Plan(ctx, rows)
	if err != nil {
		return "", fmt.Errorf("job %s: plan rows: %w", job.ID, err)
	}
	stored, err := j.st.JobRows(ctx, job.TenantID, job.ID, store.JobRowQuery{AfterSeq: seq - 1, Limit: len(rows)})
	if err != nil {
		return "", fmt.Errorf("job %s rows: %w", job.ID, err)
	}
	for i := range planned {
		r := &planned[i]
		if errs := r.errors(); len(errs) > 0 {
			return errs[0].String(), nil
		}
		if i < len(stored) && stored[i].Action != string(r.Action) {
			return fmt.Sprintf("Row %d is now planned as %s, not %s as validated: the directory changed meanwhile.", r.Number, r.Action, stored[i].Action), nil
		}
	}
	return "", nil
}

// refuseLoad ends an all-or-nothing commit that the second validation
// stopped: nothing was written.
func (j *Jobs) refuseLoad(ctx context.Context, job store.Job, problem string) error {
	_, err := j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, j.stillCommitting(func(cur *store.Job) {
		cur.State, cur.Updated = store.JobFailed, j.now().UTC()
		cur.Summary = "Nothing was loaded: validating the file again before loading found a problem. " + problem + " Fix it and upload the file again."
	}))
	if err != nil {
		return err
	}
	return errStopped
}
