package csvbridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Job defaults.
const (
	// DefaultRetention is how long a job keeps its upload and rows.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultChunk is the number of rows planned or committed together.
	DefaultChunk = 1000
	// DefaultLease is how long a worker holds a job between renewals.
	DefaultLease = 30 * time.Second
)

// Row statuses stored per job row, besides StatusSucceeded and
// StatusFailed (commit outcomes).
const (
	StatusPending = "pending"
	// StatusLinking: the row is written; its references (Links) are set
	// in the commit's second pass.
	StatusLinking  = "linking"
	StatusSkipped  = "skipped"
	StatusExcluded = "excluded"
	StatusInvalid  = "invalid"
)

// Jobs runs CSV import jobs: it takes uploads, validates them into a
// stored plan (the preview), commits the plan through the directory
// service's streaming apply, and answers for jobs, their rows and their
// reports. Everything lives in the store, so any replica can answer for
// any job and a restarted worker resumes where the last one stopped.
type Jobs struct {
	dir       *directory.Service
	st        store.Jobs
	limits    Limits
	owner     string
	lease     time.Duration
	retention time.Duration
	chunk     int
	poll      time.Duration
	now       func() time.Time
	log       *slog.Logger
	wake      chan struct{}
	profiles  func(name string) (*Profile, bool)
	// photos keeps profile pictures: the job store, when it does.
	photos      store.Photos
	photoLimits PhotoLimits
	// customs keeps tenants' own profiles (nil: none).
	customs store.CSVProfiles
	// analyzer refreshes the store's statistics after a large commit (nil:
	// the store keeps none).
	analyzer store.Analyzer
}

// JobsOption configures Jobs.
type JobsOption func(*Jobs)

// WithJobLimits sets the reader's limits (size and rows).
func WithJobLimits(l Limits) JobsOption { return func(j *Jobs) { j.limits = l } }

// WithChunk sets how many rows are planned and committed together.
func WithChunk(n int) JobsOption { return func(j *Jobs) { j.chunk = n } }

// WithLease sets the worker's lease; a dead worker's job is taken over
// after it.
func WithLease(d time.Duration) JobsOption { return func(j *Jobs) { j.lease = d } }

// WithRetention sets how long jobs keep their upload and rows.
func WithRetention(d time.Duration) JobsOption { return func(j *Jobs) { j.retention = d } }

// WithPoll sets how often an idle worker looks for jobs other replicas
// queued.
func WithPoll(d time.Duration) JobsOption { return func(j *Jobs) { j.poll = d } }

// WithJobClock sets the clock.
func WithJobClock(now func() time.Time) JobsOption { return func(j *Jobs) { j.now = now } }

// WithProfiles sets where profiles are found by name (default: the
// built-in profiles).
func WithProfiles(find func(name string) (*Profile, bool)) JobsOption {
	return func(j *Jobs) { j.profiles = find }
}

// WithPhotoLimits sets the limits of profile picture uploads.
func WithPhotoLimits(l PhotoLimits) JobsOption { return func(j *Jobs) { j.photoLimits = l } }

// WithJobLogger sets the logger.
func WithJobLogger(l *slog.Logger) JobsOption { return func(j *Jobs) { j.log = l } }

// NewJobs returns the job service over the directory and the job store.
func NewJobs(dir *directory.Service, st store.Jobs, opts ...JobsOption) *Jobs {
	j := &Jobs{dir: dir, st: st, owner: uuid.NewString(), lease: DefaultLease, retention: DefaultRetention,
		chunk: DefaultChunk, poll: 2 * time.Second, now: time.Now, log: slog.Default(), wake: make(chan struct{}, 1),
		profiles: Builtin}
	j.photos, _ = st.(store.Photos)
	if cp, ok := st.(store.CSVProfiles); ok {
		j.customs = cp
	}
	j.analyzer, _ = st.(store.Analyzer)
	for _, o := range opts {
		o(j)
	}
	return j
}

// Limits returns the reader limits uploads are held to.
func (j *Jobs) Limits() Limits { return j.limits.withDefaults() }

// errorf builds a SCIM error, the shape every csvbridge refusal takes.
func errorf(status int, typ scimerrors.ScimType, format string, args ...any) error {
	return scimerrors.ScimError{Status: status, ScimType: typ, Detail: fmt.Sprintf(format, args...)}
}

// allow refuses a principal who may not run op.
func allow(p policy.Principal, op policy.Operation) error {
	err := policy.Decide(p, op, policy.Effect{})
	var d *policy.Denied
	if errors.As(err, &d) {
		return errorf(http.StatusForbidden, "", "Forbidden: %s.", d.Reason)
	}
	return err
}

// Submit stores an upload as a new import job in state validating and
// wakes the worker (SubmitFrom over the bytes).
func (j *Jobs) Submit(ctx context.Context, p policy.Principal, profile, fileName string, body []byte) (store.Job, error) {
	return j.SubmitFrom(ctx, p, profile, fileName, bytes.NewReader(body))
}

// SubmitFrom stores an upload, read from a seekable file (the HTTP
// handler spools the request body to a temporary file), as a new import
// job in state validating and wakes the worker; the file is streamed into
// the store, never held whole. A file that cannot be read at all (empty,
// not text, over the size cap) is refused here with a 400 or 413 and no
// job; a file whose header does not fit the profile becomes an invalid
// job, so that the admin sees every problem in one place.
func (j *Jobs) SubmitFrom(ctx context.Context, p policy.Principal, profile, fileName string, upload io.ReadSeeker) (store.Job, error) {
	return j.SubmitUpload(ctx, p, Upload{Profile: profile, FileName: fileName, File: upload})
}

// Upload is a file submitted for import with the profile's options.
type Upload struct {
	Profile  string
	FileName string
	// Options are the profile's per-upload options (Profile.Options).
	Options map[string]string
	File    io.ReadSeeker
}

// SubmitUpload is SubmitFrom with options: they are checked against the
// profile (declared, required ones given, listed ones in the tenant's
// list) and kept with the job.
func (j *Jobs) SubmitUpload(ctx context.Context, p policy.Principal, up Upload) (store.Job, error) {
	profile, fileName, upload := up.Profile, up.FileName, up.File
	if err := allow(p, policy.CSVImport); err != nil {
		return store.Job{}, err
	}
	prof, err := j.find(ctx, p.Tenant, profile, 0)
	if err != nil {
		return store.Job{}, err
	}
	ts, err := j.dir.Settings(ctx, p)
	if err != nil {
		return store.Job{}, err
	}
	if err := prof.CheckOptions(up.Options, &ts); err != nil {
		return store.Job{}, err
	}
	detail, err := json.Marshal(Detail{Options: up.Options})
	if err != nil {
		return store.Job{}, fmt.Errorf("encode options: %w", err)
	}
	size, sum, err := j.inspect(upload)
	if err != nil {
		return store.Job{}, err
	}
	principal, err := json.Marshal(p)
	if err != nil {
		return store.Job{}, fmt.Errorf("encode principal: %w", err)
	}
	now := j.now().UTC()
	job := store.Job{ID: uuid.NewString(), TenantID: p.Tenant, Kind: "import", Profile: prof.Name,
		ProfileVersion: prof.Version, State: store.JobValidating, Actor: actor(p), Principal: principal,
		FileName: fileName, FileSHA256: sum, FileSize: size,
		Counts: map[string]int{}, Summary: "Checking the file.", Created: now, Updated: now,
		Expires: now.Add(j.retention), Version: 1, Detail: detail}
	if _, err := upload.Seek(0, io.SeekStart); err != nil {
		return store.Job{}, fmt.Errorf("rewind upload: %w", err)
	}
	if err := j.st.CreateJob(ctx, job, upload); err != nil {
		return store.Job{}, fmt.Errorf("create job: %w", err)
	}
	j.Wake()
	return job, nil
}

// inspect returns the upload's size and SHA-256 (hex), refusing files the
// reader cannot start on: over the cap, empty, not text, or with invalid
// bytes in the header.
func (j *Jobs) inspect(upload io.ReadSeeker) (int64, string, error) {
	limits := j.Limits()
	size, err := upload.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, "", fmt.Errorf("size of upload: %w", err)
	}
	if size > limits.MaxBytes {
		return 0, "", errorf(http.StatusRequestEntityTooLarge, "tooLarge", "The file is %s; the limit is %s.", FormatBytes(size), FormatBytes(limits.MaxBytes))
	}
	if _, err := upload.Seek(0, io.SeekStart); err != nil {
		return 0, "", fmt.Errorf("rewind upload: %w", err)
	}
	_, err = NewReader(upload, limits)
	var fe *FileError
	if errors.As(err, &fe) && (fe.Has(CodeEmptyFile) || fe.Has(CodeNotText) || fe.Has(CodeInvalidEncoding) || fe.Has(CodeTooLarge)) {
		return 0, "", errorf(http.StatusBadRequest, "invalidValue", "%s", fe.Issues[0].String())
	}
	if _, err := upload.Seek(0, io.SeekStart); err != nil {
		return 0, "", fmt.Errorf("rewind upload: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, upload); err != nil {
		return 0, "", fmt.Errorf("hash upload: %w", err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// actor names a principal in job history.
func actor(p policy.Principal) string {
	if p.UserName != "" {
		return p.UserName
	}
	return p.Subject
}

// Wake tells the local worker there may be work.
func (j *Jobs) Wake() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// get returns a job of the caller's tenant, refusing callers without the
// import tier.
func (j *Jobs) get(ctx context.Context, p policy.Principal, id string) (store.Job, error) {
	if err := allow(p, policy.CSVImport); err != nil {
		return store.Job{}, err
	}
	job, err := j.st.GetJob(ctx, p.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return job, errorf(http.StatusNotFound, "", "Import %s does not exist.", id)
	}
	if err != nil {
		return job, fmt.Errorf("get job %s: %w", id, err)
	}
	return job, nil
}

// kept returns a job whose rows are still kept: an expired job's rows
// and upload are gone (410).
func (j *Jobs) kept(ctx context.Context, p policy.Principal, id string) (store.Job, error) {
	job, err := j.get(ctx, p, id)
	if err == nil && job.State == store.JobExpired {
		return job, errorf(http.StatusGone, "", "Import %s expired on %s; its rows, report and upload are no longer kept.", id, job.Expires.Format(time.DateOnly))
	}
	return job, err
}

// Get returns one job as the API shows it.
func (j *Jobs) Get(ctx context.Context, p policy.Principal, id string) (View, error) {
	job, err := j.get(ctx, p, id)
	if err != nil {
		return View{}, err
	}
	return viewOf(job), nil
}

// List returns the tenant's jobs, newest first, limit at a time after the
// job before.
func (j *Jobs) List(ctx context.Context, p policy.Principal, limit int, before string) ([]View, error) {
	if err := allow(p, policy.CSVImport); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	jobs, err := j.st.ListJobs(ctx, p.Tenant, limit, before)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]View, len(jobs))
	for i, job := range jobs {
		out[i] = viewOf(job)
	}
	return out, nil
}

// Profile returns the profile with the name, as imports find it (a
// built-in one; ProfileFor also finds the tenant's own).
func (j *Jobs) Profile(name string) (*Profile, bool) { return j.profiles(name) }

// find returns a built-in profile, or the tenant's own profile with the
// name (version 0: its latest); a 404 when there is none.
func (j *Jobs) find(ctx context.Context, tenant, name string, version int) (*Profile, error) {
	if p, ok := j.profiles(name); ok {
		return p, nil
	}
	p, err := j.customProfile(ctx, tenant, name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "", "Profile %q does not exist; GET /csv/profiles lists them.", name)
	}
	return p, err
}
