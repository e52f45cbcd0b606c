package csvbridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// ExportRunning is the state an export job shows while its file is
// written (the store keeps it as validating, the state workers claim).
const ExportRunning store.JobState = "running"

// ExportJob is an export job's request and, once written, its file.
type ExportJob struct {
	Request  ExportRequest `json:"request"`
	FileName string        `json:"fileName"`
	// Resources is the number of users or groups written; Bytes the
	// file's size.
	Resources int   `json:"resources"`
	Bytes     int64 `json:"bytes"`
}

// SubmitExport checks an export request exactly as the streaming export
// does (Exporter.Prepare: csv.export, the profile, columns and filter)
// and stores it as an export job; the worker writes the file into the
// store, where it is kept (and expires) like an upload, and Download
// serves it. A refusal is an error and no job.
func (j *Jobs) SubmitExport(ctx context.Context, p policy.Principal, req ExportRequest) (store.Job, error) {
	x, err := j.Exporter().Prepare(ctx, p, req)
	if err != nil {
		return store.Job{}, err
	}
	principal, err := json.Marshal(p)
	if err != nil {
		return store.Job{}, fmt.Errorf("encode principal: %w", err)
	}
	now := j.now().UTC()
	job := store.Job{ID: uuid.NewString(), TenantID: p.Tenant, Kind: KindExport, Profile: x.profile, State: store.JobValidating,
		Actor: actor(p), Principal: principal, FileName: x.FileName(now), Counts: map[string]int{},
		Summary: "Writing the export.", Created: now, Updated: now, Expires: now.Add(j.retention), Version: 1}
	if err := setDetail(&job, &Detail{Export: &ExportJob{Request: req, FileName: job.FileName}}); err != nil {
		return store.Job{}, err
	}
	if err := j.st.CreateJob(ctx, job, nil); err != nil {
		return store.Job{}, fmt.Errorf("create job: %w", err)
	}
	j.Wake()
	return job, nil
}

// exportJob returns an export job of the caller's tenant (csv.export).
func (j *Jobs) exportJob(ctx context.Context, p policy.Principal, id string) (store.Job, error) {
	if err := allow(p, policy.CSVExport); err != nil {
		return store.Job{}, err
	}
	job, err := j.st.GetJob(ctx, p.Tenant, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && job.Kind != KindExport) {
		return job, errorf(http.StatusNotFound, "", "Export %s does not exist.", id)
	}
	if err != nil {
		return job, fmt.Errorf("get job %s: %w", id, err)
	}
	return job, nil
}

// GetExport returns an export job as the API shows it.
func (j *Jobs) GetExport(ctx context.Context, p policy.Principal, id string) (View, error) {
	job, err := j.exportJob(ctx, p, id)
	if err != nil {
		return View{}, err
	}
	return viewOf(job), nil
}

// Download opens a finished export's file: 409 while it is being
// written or when it failed, 410 once it expired. The caller closes it.
func (j *Jobs) Download(ctx context.Context, p policy.Principal, id string) (View, io.ReadCloser, error) {
	job, err := j.exportJob(ctx, p, id)
	if err != nil {
		return View{}, nil, err
	}
	switch job.State {
	case store.JobCompleted:
	case store.JobExpired:
		return View{}, nil, errorf(http.StatusGone, "", "Export %s expired on %s; its file is no longer kept.", id, job.Expires.Format(time.DateOnly))
	default:
		return View{}, nil, errorf(http.StatusConflict, "", "Export %s is %s; only a completed export can be downloaded.", id, viewOf(job).State)
	}
	rc, err := j.st.JobUpload(ctx, p.Tenant, id)
	if err != nil {
		return View{}, nil, fmt.Errorf("export %s file: %w", id, err)
	}
	return viewOf(job), rc, nil
}

// runExport writes an export job's file into a temporary file (progress
// on the job every few seconds), then stores it and completes the job in
// one transaction. A worker that dies meanwhile leaves the job running; the
// next one writes the file again from the start. A request the caller may
// no longer make (tier lowered, profile gone) fails the job with the
// reason.
func (j *Jobs) runExport(ctx context.Context, job store.Job) error {
	p, err := principalOf(job)
	if err != nil {
		return err
	}
	d := detailOf(job)
	if d.Export == nil {
		return fmt.Errorf("job %s: no export request", job.ID)
	}
	x, err := j.Exporter().Prepare(ctx, p, d.Export.Request)
	if err != nil {
		return j.refuseExport(ctx, job, err)
	}
	if total := j.exportTotal(ctx, p, x); total > 0 {
		if err := j.renew(ctx, job, store.JobValidating, func(cur *store.Job) { cur.Total = total }); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp("", "scimbridge-export-*.csv")
	if err != nil {
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	n, err := j.writeExport(ctx, job, x, cw)
	if err != nil {
		var se scimerrors.ScimError
		if errors.As(err, &se) {
			return j.refuseExport(ctx, job, err)
		}
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("job %s: rewind export: %w", job.ID, err)
	}
	d.Export.Resources, d.Export.Bytes = n, cw.n
	_, err = j.st.ReplaceJobUpload(ctx, job.TenantID, job.ID, j.owner, tmp, func(cur *store.Job) error {
		if cur.State != store.JobValidating {
			return errStopped
		}
		cur.State, cur.Updated = store.JobCompleted, j.now().UTC()
		cur.Done, cur.Total, cur.FileSize, cur.FileSHA256 = n, n, cw.n, hex.EncodeToString(h.Sum(nil))
		cur.Counts = map[string]int{"total": n}
		cur.Summary = fmt.Sprintf("Export ready: %d %s, %s.", n, exportNoun(x), FormatBytes(cw.n))
		return setDetail(cur, d)
	})
	return err
}

// exportTotal is the number of rows the export will write, for its
// progress (0 when unknown: one row per membership, or the count failed).
func (j *Jobs) exportTotal(ctx context.Context, p policy.Principal, x *Export) int {
	if x.req.MemberRows {
		return 0
	}
	q := directory.ListQuery{Filter: x.filter}
	var list *directory.List
	var err error
	if x.req.Resource == ExportGroups {
		list, err = j.dir.ListGroups(ctx, p, q, false)
	} else {
		list, err = j.dir.ListUsers(ctx, p, q)
	}
	if err != nil {
		j.log.WarnContext(ctx, "count export rows", "err", err)
		return 0
	}
	return list.Total
}

func exportNoun(x *Export) string {
	if x.req.Resource == ExportGroups {
		return "groups"
	}
	return "users"
}

// writeExport runs the export into w, renewing the lease and recording
// progress at most every two seconds; it stops (errStopped) when the job
// was cancelled or its lease lost.
func (j *Jobs) writeExport(ctx context.Context, job store.Job, x *Export, w *countWriter) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	last := j.now()
	flush := func() {
		mu.Lock()
		defer mu.Unlock()
		if j.now().Sub(last) < 2*time.Second {
			return
		}
		last = j.now()
		written := w.rows()
		if err := j.renew(ctx, job, store.JobValidating, func(cur *store.Job) { cur.Done = written }); err != nil {
			cancel(err)
		}
	}
	n, err := x.Write(ctx, w, flush)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return n, cause
	}
	return n, err
}

// refuseExport fails an export job the directory refuses, with the reason.
func (j *Jobs) refuseExport(ctx context.Context, job store.Job, cause error) error {
	_, msg := ErrorCode(cause)
	_, err := j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, func(cur *store.Job) error {
		if cur.State != store.JobValidating {
			return errStopped
		}
		cur.State, cur.Updated = store.JobFailed, j.now().UTC()
		cur.Summary = "Export failed: " + msg
		return nil
	})
	return err
}

// countWriter counts the bytes and lines written through it.
type countWriter struct {
	w     io.Writer
	n     int64
	lines int
	mu    sync.Mutex
}

// Write implements io.Writer.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	for _, b := range p[:n] {
		if b == '\n' {
			c.lines++
		}
	}
	c.mu.Unlock()
	return n, err
}

// rows is about the number of data rows written (lines after the
// header; a quoted cell holding a newline counts once more).
func (c *countWriter) rows() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.lines-1, 0)
}
