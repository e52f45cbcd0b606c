// Package storemetrics wraps a store.Store and records the latency and
// outcome of every call in a Prometheus histogram
// (scimbridge_store_duration_seconds{op, outcome}).
package storemetrics

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Store is an instrumented store.Store.
type Store struct {
	next store.Store
	hist *prometheus.HistogramVec
}

var _ store.Store = (*Store)(nil)

// Wrap instruments next and registers the histogram with reg.
func Wrap(next store.Store, reg prometheus.Registerer) (*Store, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scimbridge_store_duration_seconds",
		Help:    "Latency of store operations by operation and outcome (ok, not_found, conflict, invalid_reference, version_mismatch, timeout, lease_lost, error).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"op", "outcome"})
	if err := reg.Register(h); err != nil {
		return nil, err
	}
	return &Store{next: next, hist: h}, nil
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrInvalidReference):
		return "invalid_reference"
	case errors.Is(err, store.ErrVersionMismatch):
		return "version_mismatch"
	case errors.Is(err, store.ErrTimeout):
		return "timeout"
	case errors.Is(err, store.ErrLeaseLost):
		return "lease_lost"
	}
	return "error"
}

func observe[T any](s *Store, op string, fn func() (T, error)) (T, error) {
	start := time.Now()
	v, err := fn()
	s.hist.WithLabelValues(op, outcome(err)).Observe(time.Since(start).Seconds())
	return v, err
}

func observeErr(s *Store, op string, fn func() error) error {
	_, err := observe(s, op, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	return observe(s, "create_user", func() (store.User, error) { return s.next.CreateUser(ctx, u) })
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, tenant, id string, load store.UserLoad) (store.User, error) {
	return observe(s, "get_user", func() (store.User, error) { return s.next.GetUser(ctx, tenant, id, load) })
}

// UpdateUser implements store.Users.
func (s *Store) UpdateUser(ctx context.Context, tenant, id string, fn func(*store.User) error) (store.User, error) {
	return observe(s, "update_user", func() (store.User, error) { return s.next.UpdateUser(ctx, tenant, id, fn) })
}

// DeleteUser implements store.Users.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string, version int64) error {
	return observeErr(s, "delete_user", func() error { return s.next.DeleteUser(ctx, tenant, id, version) })
}

type page[T any] struct {
	items []T
	total int
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context, tenant string, q store.Query, load store.UserLoad) ([]store.User, int, error) {
	r, err := observe(s, "list_users", func() (page[store.User], error) {
		items, total, err := s.next.ListUsers(ctx, tenant, q, load)
		return page[store.User]{items, total}, err
	})
	return r.items, r.total, err
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) (store.Group, error) {
	return observe(s, "create_group", func() (store.Group, error) { return s.next.CreateGroup(ctx, g) })
}

// GetGroup implements store.Groups.
func (s *Store) GetGroup(ctx context.Context, tenant, id string, load store.GroupLoad) (store.Group, error) {
	return observe(s, "get_group", func() (store.Group, error) { return s.next.GetGroup(ctx, tenant, id, load) })
}

// UpdateGroup implements store.Groups.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, fn func(*store.Group) error) (store.Group, error) {
	return observe(s, "update_group", func() (store.Group, error) { return s.next.UpdateGroup(ctx, tenant, id, fn) })
}

// DeleteGroup implements store.Groups.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, version int64) error {
	return observeErr(s, "delete_group", func() error { return s.next.DeleteGroup(ctx, tenant, id, version) })
}

// ModifyGroup implements store.Groups.
func (s *Store) ModifyGroup(ctx context.Context, tenant, id string, mp store.MemberPatch, fn func(*store.Group, bool) error) (store.Group, error) {
	return observe(s, "modify_group", func() (store.Group, error) { return s.next.ModifyGroup(ctx, tenant, id, mp, fn) })
}

// ListGroups implements store.Groups.
func (s *Store) ListGroups(ctx context.Context, tenant string, q store.Query, load store.GroupLoad) ([]store.Group, int, error) {
	r, err := observe(s, "list_groups", func() (page[store.Group], error) {
		items, total, err := s.next.ListGroups(ctx, tenant, q, load)
		return page[store.Group]{items, total}, err
	})
	return r.items, r.total, err
}

// CreateCredential implements store.Credentials.
func (s *Store) CreateCredential(ctx context.Context, c store.Credential) error {
	return observeErr(s, "create_credential", func() error { return s.next.CreateCredential(ctx, c) })
}

// CredentialByHash implements store.Credentials.
func (s *Store) CredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	return observe(s, "credential_by_hash", func() (store.Credential, error) { return s.next.CredentialByHash(ctx, hash) })
}

// CreateTenant implements store.Tenants.
func (s *Store) CreateTenant(ctx context.Context, id string, now time.Time) error {
	return observeErr(s, "create_tenant", func() error { return s.next.CreateTenant(ctx, id, now) })
}

// GetTenant implements store.Tenants.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	return observe(s, "get_tenant", func() (store.Tenant, error) { return s.next.GetTenant(ctx, id) })
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	return observeErr(s, "ping", func() error { return s.next.Ping(ctx) })
}

// Close implements store.Store.
func (s *Store) Close() error { return s.next.Close() }

// CreateUsers implements store.Users.
func (s *Store) CreateUsers(ctx context.Context, users []store.User) ([]error, error) {
	return observe(s, "create_users", func() ([]error, error) { return s.next.CreateUsers(ctx, users) })
}

// AuditEvents implements store.Auditing.
func (s *Store) AuditEvents(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEvent, error) {
	return observe(s, "audit_events", func() ([]store.AuditEvent, error) { return s.next.AuditEvents(ctx, tenant, q) })
}

// RecordAudit implements store.Auditing.
func (s *Store) RecordAudit(ctx context.Context, e store.AuditEvent) error {
	_, err := observe(s, "record_audit", func() (struct{}, error) { return struct{}{}, s.next.RecordAudit(ctx, e) })
	return err
}

// UserTiers implements store.Users.
func (s *Store) UserTiers(ctx context.Context, tenant string, ids []string) (map[string]store.Tier, error) {
	return observe(s, "user_tiers", func() (map[string]store.Tier, error) { return s.next.UserTiers(ctx, tenant, ids) })
}

// MemberTiers implements store.Groups.
func (s *Store) MemberTiers(ctx context.Context, tenant, groupID string) ([]store.Tier, error) {
	return observe(s, "member_tiers", func() ([]store.Tier, error) { return s.next.MemberTiers(ctx, tenant, groupID) })
}

// ListCredentials implements store.Credentials.
func (s *Store) ListCredentials(ctx context.Context, tenant string) ([]store.Credential, error) {
	return observe(s, "list_credentials", func() ([]store.Credential, error) { return s.next.ListCredentials(ctx, tenant) })
}

// RevokeCredential implements store.Credentials.
func (s *Store) RevokeCredential(ctx context.Context, tenant, id string, at time.Time) error {
	return observeErr(s, "revoke_credential", func() error { return s.next.RevokeCredential(ctx, tenant, id, at) })
}

// TouchCredential implements store.Credentials.
func (s *Store) TouchCredential(ctx context.Context, id string, at time.Time) error {
	return observeErr(s, "touch_credential", func() error { return s.next.TouchCredential(ctx, id, at) })
}

// CreateJob implements store.Jobs.
func (s *Store) CreateJob(ctx context.Context, j store.Job, upload io.Reader) error {
	return observeErr(s, "create_job", func() error { return s.next.CreateJob(ctx, j, upload) })
}

// GetJob implements store.Jobs.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (store.Job, error) {
	return observe(s, "get_job", func() (store.Job, error) { return s.next.GetJob(ctx, tenant, id) })
}

// ListJobs implements store.Jobs.
func (s *Store) ListJobs(ctx context.Context, tenant string, limit int, before string) ([]store.Job, error) {
	return observe(s, "list_jobs", func() ([]store.Job, error) { return s.next.ListJobs(ctx, tenant, limit, before) })
}

// JobUpload implements store.Jobs.
func (s *Store) JobUpload(ctx context.Context, tenant, id string) (io.ReadCloser, error) {
	return observe(s, "job_upload", func() (io.ReadCloser, error) { return s.next.JobUpload(ctx, tenant, id) })
}

// UpdateJob implements store.Jobs.
func (s *Store) UpdateJob(ctx context.Context, tenant, id, owner string, fn func(*store.Job) error) (store.Job, error) {
	return observe(s, "update_job", func() (store.Job, error) { return s.next.UpdateJob(ctx, tenant, id, owner, fn) })
}

// InsertJobRows implements store.Jobs.
func (s *Store) InsertJobRows(ctx context.Context, tenant, id, owner string, rows []store.JobRow) error {
	return observeErr(s, "insert_job_rows", func() error { return s.next.InsertJobRows(ctx, tenant, id, owner, rows) })
}

// JobRows implements store.Jobs.
func (s *Store) JobRows(ctx context.Context, tenant, id string, q store.JobRowQuery) ([]store.JobRow, error) {
	return observe(s, "job_rows", func() ([]store.JobRow, error) { return s.next.JobRows(ctx, tenant, id, q) })
}

// JobRowStats implements store.Jobs.
func (s *Store) JobRowStats(ctx context.Context, tenant, id string) ([]store.JobRowStat, error) {
	return observe(s, "job_row_stats", func() ([]store.JobRowStat, error) { return s.next.JobRowStats(ctx, tenant, id) })
}

// RecordChunk implements store.Jobs.
func (s *Store) RecordChunk(ctx context.Context, tenant, id, owner string, outcomes []store.JobRowOutcome, fn func(*store.Job) error) (store.Job, error) {
	return observe(s, "record_chunk", func() (store.Job, error) { return s.next.RecordChunk(ctx, tenant, id, owner, outcomes, fn) })
}

// ReplaceJobUpload implements store.Jobs.
func (s *Store) ReplaceJobUpload(ctx context.Context, tenant, id, owner string, upload io.Reader, fn func(*store.Job) error) (store.Job, error) {
	return observe(s, "replace_job_upload", func() (store.Job, error) { return s.next.ReplaceJobUpload(ctx, tenant, id, owner, upload, fn) })
}

// AnalyzeUsers implements store.Analyzer for a wrapped store that does
// (nothing to do for one that does not).
func (s *Store) AnalyzeUsers(ctx context.Context) error {
	a, ok := s.next.(store.Analyzer)
	if !ok {
		return nil
	}
	return observeErr(s, "analyze_users", func() error { return a.AnalyzeUsers(ctx) })
}

// PutPhoto implements store.Photos.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	return observeErr(s, "put_photo", func() error { return s.next.PutPhoto(ctx, p) })
}

// GetPhoto implements store.Photos.
func (s *Store) GetPhoto(ctx context.Context, tenant, id string) (store.Photo, error) {
	return observe(s, "get_photo", func() (store.Photo, error) { return s.next.GetPhoto(ctx, tenant, id) })
}

// DeletePhoto implements store.Photos.
func (s *Store) DeletePhoto(ctx context.Context, tenant, id string) error {
	return observeErr(s, "delete_photo", func() error { return s.next.DeletePhoto(ctx, tenant, id) })
}

// DeleteUserPhotos implements store.Photos.
func (s *Store) DeleteUserPhotos(ctx context.Context, tenant, userID, keep string) (int, error) {
	return observe(s, "delete_user_photos", func() (int, error) { return s.next.DeleteUserPhotos(ctx, tenant, userID, keep) })
}

// ClaimJob implements store.Jobs.
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (store.Job, error) {
	return observe(s, "claim_job", func() (store.Job, error) { return s.next.ClaimJob(ctx, owner, now, lease) })
}

// RenewLease implements store.Jobs.
func (s *Store) RenewLease(ctx context.Context, tenant, id, owner string, until time.Time) error {
	return observeErr(s, "renew_lease", func() error { return s.next.RenewLease(ctx, tenant, id, owner, until) })
}

// ReleaseJob implements store.Jobs.
func (s *Store) ReleaseJob(ctx context.Context, tenant, id, owner string) error {
	return observeErr(s, "release_job", func() error { return s.next.ReleaseJob(ctx, tenant, id, owner) })
}

// ExpireJobs implements store.Jobs.
func (s *Store) ExpireJobs(ctx context.Context, now time.Time) (int, error) {
	return observe(s, "expire_jobs", func() (int, error) { return s.next.ExpireJobs(ctx, now) })
}

// UpdateUsers implements store.Users.
func (s *Store) UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(int, *store.User) (*store.AuditEvent, error)) ([]store.UserUpdate, error) {
	return observe(s, "update_users", func() ([]store.UserUpdate, error) { return s.next.UpdateUsers(ctx, tenant, ids, fn) })
}

// CreateSession implements store.Sessions.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	return observeErr(s, "create_session", func() error { return s.next.CreateSession(ctx, ses) })
}

// SessionByHash implements store.Sessions.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	return observe(s, "session_by_hash", func() (store.Session, error) { return s.next.SessionByHash(ctx, hash, now) })
}

// DeleteSession implements store.Sessions.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return observeErr(s, "delete_session", func() error { return s.next.DeleteSession(ctx, hash) })
}

// DeleteExpiredSessions implements store.Sessions.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return observe(s, "delete_expired_sessions", func() (int, error) { return s.next.DeleteExpiredSessions(ctx, now) })
}

// GetSettings implements store.SettingsStore.
func (s *Store) GetSettings(ctx context.Context, tenant string) (store.Settings, error) {
	return observe(s, "get_settings", func() (store.Settings, error) { return s.next.GetSettings(ctx, tenant) })
}

// UpdateSettings implements store.SettingsStore.
func (s *Store) UpdateSettings(ctx context.Context, tenant string, fn func(*store.Settings) error) (store.Settings, error) {
	return observe(s, "update_settings", func() (store.Settings, error) { return s.next.UpdateSettings(ctx, tenant, fn) })
}

// ClaimOutbox implements store.Outbox.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	return observe(s, "claim_outbox", func() ([]store.OutboxMessage, error) { return s.next.ClaimOutbox(ctx, owner, now, lease, limit) })
}

// FinishOutbox implements store.Outbox.
func (s *Store) FinishOutbox(ctx context.Context, tenant, id, owner string, res store.OutboxResult) error {
	return observeErr(s, "finish_outbox", func() error { return s.next.FinishOutbox(ctx, tenant, id, owner, res) })
}

// ListOutbox implements store.Outbox.
func (s *Store) ListOutbox(ctx context.Context, tenant string, q store.OutboxQuery) ([]store.OutboxMessage, error) {
	return observe(s, "list_outbox", func() ([]store.OutboxMessage, error) { return s.next.ListOutbox(ctx, tenant, q) })
}

// PutCSVProfile implements store.CSVProfiles.
func (s *Store) PutCSVProfile(ctx context.Context, p store.CSVProfile) error {
	return observeErr(s, "put_csv_profile", func() error { return s.next.PutCSVProfile(ctx, p) })
}

// GetCSVProfile implements store.CSVProfiles.
func (s *Store) GetCSVProfile(ctx context.Context, tenant, name string, version int) (store.CSVProfile, error) {
	return observe(s, "get_csv_profile", func() (store.CSVProfile, error) { return s.next.GetCSVProfile(ctx, tenant, name, version) })
}

// ListCSVProfiles implements store.CSVProfiles.
func (s *Store) ListCSVProfiles(ctx context.Context, tenant string) ([]store.CSVProfile, error) {
	return observe(s, "list_csv_profiles", func() ([]store.CSVProfile, error) { return s.next.ListCSVProfiles(ctx, tenant) })
}
