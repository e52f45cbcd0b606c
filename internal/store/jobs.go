package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// JobState is where a CSV job is in its life.
type JobState string

// The job states (issue 12). validating and committing are the states a
// worker claims; the last six are final.
const (
	JobValidating          JobState = "validating"
	JobValidated           JobState = "validated"
	JobInvalid             JobState = "invalid"
	JobCommitting          JobState = "committing"
	JobCompleted           JobState = "completed"
	JobCompletedWithErrors JobState = "completed_with_errors"
	JobFailed              JobState = "failed"
	JobCancelled           JobState = "cancelled"
	JobExpired             JobState = "expired"
)

// Final reports whether no worker will ever act on a job in state s again.
func (s JobState) Final() bool {
	switch s {
	case JobValidating, JobValidated, JobCommitting:
		return false
	}
	return true
}

// Claimable reports whether a worker claims jobs in state s.
func (s JobState) Claimable() bool { return s == JobValidating || s == JobCommitting }

// Errors of the job store.
var (
	// ErrLeaseLost: the caller named itself as the job's worker but no
	// longer holds its lease (it expired and another worker took the job,
	// or the job was released). Nothing was written.
	ErrLeaseLost = errors.New("store: job lease lost")
)

// Job is one CSV job of a tenant: an import (the only kind so far). The
// store keeps its fields as given; the csvbridge package gives them
// meaning (state machine, counts, summary).
type Job struct {
	ID       string
	TenantID string
	// Kind is "import".
	Kind string
	// Profile and ProfileVersion name the profile the job runs with.
	Profile        string
	ProfileVersion int
	State          JobState
	// Actor names who created the job, for history and audit.
	Actor string
	// Principal is the caller the worker acts as, as JSON the csvbridge
	// package writes (tenant, subject, kind, tier).
	Principal []byte
	// FileName, FileSHA256 (hex) and FileSize describe the upload; the
	// upload itself is read with JobUpload until the job expires.
	FileName   string
	FileSHA256 string
	FileSize   int64
	// Total is the number of rows to work on in the current state; Done
	// how many of them are done (progress).
	Total int
	Done  int
	// Counts are the job's counts by name (create, update, error, ...).
	Counts map[string]int
	// Summary is the sentence an admin reads.
	Summary string
	// Detail is csvbridge's JSON: file facts, header mapping, file-level
	// errors, commit options (excluded rows).
	Detail []byte
	// Created, Updated and Expires are set by the caller (Expires: the
	// upload and the rows are dropped after it).
	Created time.Time
	Updated time.Time
	Expires time.Time
	// LeaseOwner and LeaseUntil: the worker working on the job, if any.
	LeaseOwner string
	LeaseUntil time.Time
	// Version counts writes of the job (1 on create).
	Version int64
}

// JobRow is one row of a job's file and what happened to it. A job's rows
// are keyed by Seq, their position among the file's data rows (0-based).
type JobRow struct {
	Seq int
	// Number is the row as the admin's spreadsheet shows it.
	Number int
	// Action is the planned action (create, update, unchanged, ...).
	Action string
	// Status is pending, applying, succeeded, failed, skipped, excluded
	// (csvbridge's words; the store filters on them).
	Status     string
	ResourceID string
	ErrorCode  string
	Error      string
	// Data is csvbridge's JSON for the row (cells, plan, diff, issues).
	Data []byte
}

// JobRowQuery selects a job's rows, in Seq order.
type JobRowQuery struct {
	// AfterSeq returns rows with Seq > AfterSeq (-1: from the start).
	AfterSeq int
	// Limit caps the rows returned (required, > 0).
	Limit int
	// Actions and Statuses, when not empty, keep rows whose Action
	// (Status) is one of them.
	Actions  []string
	Statuses []string
}

// JobRowOutcome is what a worker records for one row: its new status, the
// resource it touched and why it failed. Action, when not empty, replaces
// the row's action (a planned update that found the user changed).
type JobRowOutcome struct {
	Seq        int
	Action     string
	Status     string
	ResourceID string
	ErrorCode  string
	Error      string
}

// JobRowStat is the number of a job's rows with one action and status.
type JobRowStat struct {
	Action string
	Status string
	N      int
}

// Jobs stores CSV jobs, their uploads and their rows. Every method but
// ClaimJob and ExpireJobs is confined to one tenant. A method that takes
// an owner checks, in the same transaction as its write, that owner holds
// the job's lease (LeaseOwner == owner and LeaseUntil after now), else
// ErrLeaseLost and nothing is written; an empty owner skips the check
// (a request changing a job that no worker holds, e.g. commit or cancel).
type Jobs interface {
	// CreateJob stores j (Version 1) with its upload, read from upload and
	// stored in parts of UploadPartSize (EachUploadPart), all in one
	// transaction: the store never holds the whole file.
	CreateJob(ctx context.Context, j Job, upload io.Reader) error
	// GetJob returns one job of the tenant or ErrNotFound.
	GetJob(ctx context.Context, tenant, id string) (Job, error)
	// ListJobs returns the tenant's jobs, newest first (by Created, then
	// ID), at most limit, starting after the job with id before when it
	// is not empty.
	ListJobs(ctx context.Context, tenant string, limit int, before string) ([]Job, error)
	// JobUpload opens the job's upload, read a part at a time
	// (PartReader); ErrNotFound once it expired.
	JobUpload(ctx context.Context, tenant, id string) (io.ReadCloser, error)
	// UpdateJob reads the job inside one transaction, calls fn and writes
	// what fn left (Version+1). If fn fails nothing is written and its
	// error is returned. owner as described on Jobs.
	UpdateJob(ctx context.Context, tenant, id, owner string, fn func(*Job) error) (Job, error)
	// InsertJobRows adds rows to the job (a row whose Seq exists is
	// replaced) in one transaction, set-based.
	InsertJobRows(ctx context.Context, tenant, id, owner string, rows []JobRow) error
	// JobRows returns the rows q selects.
	JobRows(ctx context.Context, tenant, id string, q JobRowQuery) ([]JobRow, error)
	// JobRowStats counts the job's rows by action and status.
	JobRowStats(ctx context.Context, tenant, id string) ([]JobRowStat, error)
	// RecordChunk writes the outcomes (rows not named are untouched) and
	// then, when fn is not nil, updates the job through fn, all in one
	// transaction. If fn fails nothing is written.
	RecordChunk(ctx context.Context, tenant, id, owner string, outcomes []JobRowOutcome, fn func(*Job) error) (Job, error)
	// ClaimJob gives owner the lease (until now+lease) of the oldest job,
	// of any tenant, in a claimable state whose lease is free or expired,
	// skipping a committing job whose tenant has another committing job
	// under a live lease (one commit per tenant at a time). Replicas on
	// one database never get the same job (PostgreSQL: FOR UPDATE SKIP
	// LOCKED). ErrNotFound when there is none.
	ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (Job, error)
	// RenewLease extends owner's lease to until; ErrLeaseLost if it is
	// not owner's.
	RenewLease(ctx context.Context, tenant, id, owner string, until time.Time) error
	// ReleaseJob clears owner's lease (no error if it was already lost).
	ReleaseJob(ctx context.Context, tenant, id, owner string) error
	// ReplaceJobUpload replaces the job's stored file by the one read
	// from upload (in parts of UploadPartSize, as CreateJob stores it) and
	// then updates the job through fn, all in one transaction; if fn or
	// the read fails nothing is written. An export job stores its result
	// this way, so the file is kept, and expires, like an upload. owner as
	// described on Jobs.
	ReplaceJobUpload(ctx context.Context, tenant, id, owner string, upload io.Reader, fn func(*Job) error) (Job, error)
	// ExpireJobs marks every non-expired job whose Expires is before now
	// as expired and drops its upload and rows; it returns how many.
	ExpireJobs(ctx context.Context, now time.Time) (int, error)
}
