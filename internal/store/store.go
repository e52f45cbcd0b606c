// Package store is the persistence contract of scimbridge: the record types the
// directory service reads and writes, the Store interface every backend
// implements, and the sentinel errors backends translate their driver errors
// into. Its doc comments are the specification that the conformance suite in
// storetest checks; backends live in the sqlite and postgres sub-packages.
//
// Every record carries a tenant. Every method takes the tenant explicitly and
// never returns or touches a row of another tenant: a record of another
// tenant is indistinguishable from one that does not exist (ErrNotFound).
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// DefaultTenant is the tenant that exists in every freshly migrated store.
const DefaultTenant = "default"

// Sentinel errors. Backends wrap them (errors.Is works) and never leak a
// driver error for a condition listed here.
var (
	// ErrNotFound reports that the addressed record does not exist in the tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a uniqueness violation (userName compared
	// case-insensitively within a tenant, a tenant name, a credential name).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidReference reports a group member that does not exist in the
	// tenant, or a group that would contain itself. The concrete error is a
	// *ReferenceError naming the offending ids.
	ErrInvalidReference = errors.New("store: invalid reference")
	// ErrVersionMismatch reports that a delete's expected version is not
	// the record's current version (an If-Match precondition failed).
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrUnchanged is returned by an update callback (UpdateUser's fn) to
	// say that the record does not change: the store then writes nothing
	// (no new version, no audit event) and returns the record as read,
	// with a nil error.
	ErrUnchanged = errors.New("store: unchanged")
	// ErrTimeout reports a query that exceeded the store's statement
	// timeout: the request asked for more work than the server allows.
	ErrTimeout = errors.New("store: query timed out")
	// ErrValueTooLarge reports a value the store cannot hold or index (a
	// PostgreSQL index row or column size limit): the input is too long.
	ErrValueTooLarge = errors.New("store: value too large")
	// ErrUnavailable reports that the store could not serve the call in
	// time because it is saturated (every PostgreSQL pool connection stayed
	// busy for the pool's acquire timeout) or unreachable: nothing was
	// read or written, and the same call may succeed when retried shortly.
	ErrUnavailable = errors.New("store: unavailable")
)

// ReferenceError lists member ids that could not be resolved. It matches
// ErrInvalidReference with errors.Is.
type ReferenceError struct {
	IDs []string
}

// Error implements error.
func (e *ReferenceError) Error() string {
	return "store: invalid reference: " + strings.Join(e.IDs, ", ")
}

// Is makes errors.Is(err, ErrInvalidReference) true.
func (e *ReferenceError) Is(target error) bool { return target == ErrInvalidReference }

// Email is one entry of a user's emails, kept in its own rows so that email
// lookups use an index. Value keeps the client's spelling; backends index its
// folded form (NormalizeUserName).
type Email struct {
	Value   string
	Type    string
	Primary bool
}

// User is a stored SCIM User. The columns that are unique, filtered or
// sorted are kept beside Doc, the canonical JSON of the whole resource
// without id, meta and groups (those are computed).
type User struct {
	TenantID    string
	ID          string
	UserName    string
	ExternalID  string
	DisplayName string
	Active      bool
	// Tier is the user's support tier string ("" for none), from the
	// support extension; kept in a column for authorisation.
	Tier         Tier
	Emails       []Email
	Doc          []byte
	Created      time.Time
	LastModified time.Time
	// Version starts at 1 and grows by one with every update; ETags derive from it.
	Version int64
	// Outbox holds messages that CreateUser and CreateUsers write to the
	// outbox in the same transaction as the user (each completed with the
	// user's tenant and id; not written when the user is not). It is
	// never read back: reads leave it nil.
	Outbox []OutboxMessage
	// Groups are the groups that list the user as a direct member, ordered
	// by display name then id; filled only by reads whose UserLoad asks.
	Groups []GroupRef
}

// UserLoad says what a user read returns besides the user's own columns.
type UserLoad struct {
	// Groups fills User.Groups, in the same statement where the backend
	// can (one round trip per read).
	Groups bool
	// WithoutEmails leaves User.Emails nil, for readers that only render
	// Doc (which holds the emails too) and need not pay for the rows.
	WithoutEmails bool
}

// TotalFromPage tells a list's total from its page alone when it can: a
// page that is not full (and not past the end) ends the list, so the total
// is its offset plus its length, and no count query is needed.
//
// With q.NoTotal it answers -1 for any page: nobody needs the total.
func TotalFromPage(q Query, n int) (int, bool) {
	if q.NoTotal && q.Limit > 0 {
		return -1, true
	}
	if q.After != nil || q.Limit <= 0 || n >= q.Limit || (n == 0 && q.Offset > 0) {
		return 0, false
	}
	return q.Offset + n, true
}

// Member is one row of a group's membership. Type is "User" or "Group" and
// is set by the store from what the id refers to.
type Member struct {
	ID      string
	Type    string
	Display string
}

// Group is a stored SCIM Group. Members are rows, never part of Doc.
type Group struct {
	TenantID     string
	ID           string
	DisplayName  string
	ExternalID   string
	Doc          []byte
	Members      []Member
	Created      time.Time
	LastModified time.Time
	Version      int64
}

// MemberPatch is a change to a group's member rows, applied in order:
// RemoveAll, then Remove, then Add.
type MemberPatch struct {
	RemoveAll bool
	Remove    []string
	Add       []Member
}

// Empty reports whether the patch changes nothing.
func (m MemberPatch) Empty() bool { return !m.RemoveAll && len(m.Remove) == 0 && len(m.Add) == 0 }

// GroupRef is a group a user belongs to directly, for User.groups.
type GroupRef struct {
	ID          string
	DisplayName string
}

// Query selects, orders and pages a list. A nil Filter matches everything;
// a nil SortBy orders by creation time. Ties are always broken by id
// ascending, so pages never repeat or skip. Missing sort values come last
// in either direction. Offset counts from 0; Limit 0 returns no records but
// still the total. Filter semantics are those of package filter, whose Eval
// is the reference every backend is tested against.
type Query struct {
	Filter     filter.Expr
	SortBy     *filter.Attr
	Descending bool
	Offset     int
	Limit      int
	// After, in the default order only (SortBy nil), starts the page just
	// after the row with that creation time and id, whatever came or went
	// before it (keyset paging: a deep page costs as much as the first).
	// Offset is then not used.
	After *Key
	// NoTotal says the caller does not need the total (an export walking
	// every page): no count query runs, and the total returned is -1.
	NoTotal bool
}

// Key is a row's place in the default order.
type Key struct {
	Created time.Time
	ID      string
}

// GroupLoad says which parts of a group to read. Without Members the store
// never touches member rows.
type GroupLoad struct {
	Members bool
}

// Tier names a support tier; the policy package gives them meaning.
type Tier string

// Credential is a hashed provisioning secret bound to a tenant. The secret
// itself is never stored, only SecretHash.
type Credential struct {
	ID         string
	TenantID   string
	Name       string
	SecretHash string
	Tier       Tier
	Created    time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Tenant is an isolated directory. ID is also its name.
type Tenant struct {
	ID      string
	Created time.Time
}

// Users is the user half of the contract.
type Users interface {
	// CreateUser inserts u (ID, TenantID, times and Version=1 set by the
	// caller) and returns it as stored. ErrConflict if the tenant has
	// a user whose userName folds to the same string (NormalizeUserName).
	CreateUser(ctx context.Context, u User) (User, error)
	// CreateUsers inserts many users in one transaction, as set-based
	// SQL. The result has one entry per user: nil, or ErrConflict when the
	// userName is taken (by an existing user or an earlier one in the
	// batch); those users are skipped and the others still inserted. The
	// error is for failures of the whole batch (nothing written).
	CreateUsers(ctx context.Context, users []User) ([]error, error)
	// GetUser returns one user (with what load asks for) or ErrNotFound.
	GetUser(ctx context.Context, tenant, id string, load UserLoad) (User, error)
	// UpdateUser reads the user, calls fn with it inside one transaction
	// and, if fn returns nil, writes what fn left with Version+1 and
	// returns it with its Groups. The caller sets LastModified inside fn.
	// If fn returns ErrUnchanged nothing is written and the user is
	// returned as read (nil error); if fn fails otherwise nothing is
	// written and its error is returned unchanged.
	UpdateUser(ctx context.Context, tenant, id string, fn func(*User) error) (User, error)
	// UpdateUsers is UpdateUser for many users of one tenant, in one
	// transaction: it reads and locks the users ids names with one
	// statement (with their emails and groups), calls fn once per user
	// found, in the order of ids (i is the user's index in ids), and then
	// writes every user fn changed set-based, each with Version+1. fn sets
	// LastModified, as for UpdateUser, and returns the audit event of the
	// change (nil: none), which the store completes as WithAudit does
	// (tenant, resource, id, time) and writes with the change; the
	// WithAudit template of ctx is not used. ids must be distinct.
	//
	// The result has one entry per id: the user as written (with its
	// Groups) and a nil Err; the user as read and a nil Err when fn
	// returned ErrUnchanged (nothing written, no audit event); ErrNotFound
	// for an id with no user in the tenant; ErrConflict when the user's
	// new userName is held by a user outside the call or taken by an
	// earlier user of the call; or fn's own error. A user with an error is
	// not written, the others still are. The error is for failures of the
	// whole call (nothing written): a driver error, or a userName conflict
	// among the call's own renames that set-based writing cannot order.
	UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(i int, u *User) (*AuditEvent, error)) ([]UserUpdate, error)
	// DeleteUser removes the user and every membership row naming it.
	// A non-zero version must equal the user's current Version, else
	// ErrVersionMismatch and nothing is deleted.
	DeleteUser(ctx context.Context, tenant, id string, version int64) error
	// ListUsers returns the page of users q selects and the total number
	// that match q.Filter, each user with what load asks for. ErrTimeout if
	// the query ran out of time.
	ListUsers(ctx context.Context, tenant string, q Query, load UserLoad) ([]User, int, error)
	// UserTiers returns the tier of each given id that names a user of the
	// tenant (ids of groups or unknown ids are absent from the map).
	UserTiers(ctx context.Context, tenant string, ids []string) (map[string]Tier, error)
}

// UserUpdate is one user's outcome in Users.UpdateUsers: the user as
// written (or as read, when unchanged) and a nil Err, or the error that
// kept that user from being written.
type UserUpdate struct {
	User User
	Err  error
}

// CheckDistinctIDs fails for ids that name a record twice, as UpdateUsers
// needs.
func CheckDistinctIDs(ids []string) error {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return fmt.Errorf("store: id %s given twice", id)
		}
		seen[id] = true
	}
	return nil
}

// Groups is the group half of the contract.
type Groups interface {
	// CreateGroup inserts g with its members. Every member id must name a
	// user or group of the tenant (else a *ReferenceError); the store sets
	// each member's Type and, when Display is empty, fills it from the
	// member's displayName (or userName).
	CreateGroup(ctx context.Context, g Group) (Group, error)
	// MemberTiers returns the distinct tiers of the users the group
	// reaches: its user members and the users of every group nested in it,
	// at any depth (for judging a change that adds, removes or deletes the
	// group's membership). A cycle ends the walk; an unknown id reaches
	// nobody.
	MemberTiers(ctx context.Context, tenant, groupID string) ([]Tier, error)
	// GetGroup returns one group, with members only when load.Members.
	GetGroup(ctx context.Context, tenant, id string, load GroupLoad) (Group, error)
	// UpdateGroup is UpdateUser for groups. fn sees the current members;
	// the store writes only the difference between the members before and
	// after fn (set semantics keyed by member id). Nested groups may not
	// form a cycle (a *ReferenceError names the offending member). If fn
	// returns ErrUnchanged nothing is written (no new version, no audit
	// event) and the group is returned as read, with its members.
	UpdateGroup(ctx context.Context, tenant, id string, fn func(*Group) error) (Group, error)
	// DeleteGroup removes the group, its member rows and rows naming it as
	// a member of other groups. version works as in DeleteUser.
	DeleteGroup(ctx context.Context, tenant, id string, version int64) error
	// ModifyGroup changes a group without reading its members: inside one
	// transaction it reads the group (Members nil), calls fn, writes what fn
	// left with Version+1, then applies mp to the member rows as set
	// operations. Added members must exist in the tenant and may not make
	// a group contain itself, directly or through nested groups (else a
	// *ReferenceError); adding a present member keeps its row. If fn or the
	// member changes fail, nothing is written. The result has no members.
	//
	// fn also learns whether mp changes any member row (MemberPatch.Changes,
	// judged in the same transaction from the rows of the ids mp names):
	// false when it only adds present members (with no display, or their
	// current one) and removes absent ones. If fn returns ErrUnchanged
	// nothing at all is written (no new version, no audit event, no member
	// row) and the group is returned as read; fn returns it only when
	// neither it nor mp changes anything.
	ModifyGroup(ctx context.Context, tenant, id string, mp MemberPatch, fn func(g *Group, membersChange bool) error) (Group, error)
	// ListGroups is ListUsers for groups, with members only when load.Members.
	ListGroups(ctx context.Context, tenant string, q Query, load GroupLoad) ([]Group, int, error)
}

// MaxActiveCredentials is how many unrevoked secrets one client (tenant
// and name) may hold at once: two, so a secret can be rotated without
// downtime.
const MaxActiveCredentials = 2

// Credentials stores hashed provisioning secrets.
type Credentials interface {
	// CreateCredential stores c. ErrConflict if the tenant already has
	// MaxActiveCredentials active credentials of that name; ErrNotFound if
	// the tenant is unknown.
	CreateCredential(ctx context.Context, c Credential) error
	// CredentialByHash finds an unrevoked credential by secret hash.
	CredentialByHash(ctx context.Context, hash string) (Credential, error)
	// ListCredentials returns the tenant's credentials, revoked ones
	// included, oldest first (never secrets: only hashes exist).
	ListCredentials(ctx context.Context, tenant string) ([]Credential, error)
	// RevokeCredential revokes one credential of the tenant; ErrNotFound if
	// there is no such active credential.
	RevokeCredential(ctx context.Context, tenant, id string, at time.Time) error
	// TouchCredential records that a credential was used at time at.
	TouchCredential(ctx context.Context, id string, at time.Time) error
}

// Tenants manages tenants.
type Tenants interface {
	// CreateTenant adds a tenant; ErrConflict if it exists.
	CreateTenant(ctx context.Context, id string, now time.Time) error
	// GetTenant returns a tenant or ErrNotFound.
	GetTenant(ctx context.Context, id string) (Tenant, error)
}

// Store is everything a backend provides.
type Store interface {
	Users
	Groups
	Credentials
	Tenants
	Auditing
	Jobs
	Photos
	Sessions
	SettingsStore
	Outbox
	CSVProfiles
	// Ping reports whether the database answers and is migrated.
	Ping(ctx context.Context) error
	// Close releases the backend's connections.
	Close() error
}

// Analyzer is implemented by a backend whose query planner works from
// table statistics that a bulk write leaves stale until the database's
// own maintenance catches up (PostgreSQL's autovacuum, which may take
// minutes). A CSV import calls it after it wrote many users, so that the
// next import's lookups (users by key, a thousand keys a statement) are
// planned for the tables as they now are: planned for the nearly empty
// tenant the statistics still described, each lookup filtered the whole
// tenant (60 ms a lookup at 100,000 users instead of a few).
type Analyzer interface {
	// AnalyzeUsers refreshes the statistics of the tables users are
	// looked up in.
	AnalyzeUsers(ctx context.Context) error
}

// NormalizeUserName is the form under which userNames are unique and
// compared: SCIM compares userName case-insensitively, and scimbridge
// folds case with one rule everywhere (schema.Fold). Backends keep it in
// their normalised column; the same function normalises email values and
// group display names.
func NormalizeUserName(s string) string { return schema.Fold(s) }
