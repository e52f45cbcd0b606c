// Package directory is the provisioning service: the rules for creating,
// reading, replacing and deleting users and groups, independent of HTTP and
// SQL. It validates bodies against the schema registry, keeps userName
// unique, resolves group members, computes User.groups, and turns store
// errors into SCIM errors (github.com/elimity-com/scim/errors.ScimError)
// that every front end (SCIM, Bulk, CSV) reports as they are.
//
// # Many changes at once
//
// Service.Apply takes a stream of typed Operations (create, replace, patch
// or delete; a resource type; the target's id or the BulkID of a creation
// earlier in the stream; an optional version; the data) and hands back
// one BulkResult per operation, in stream order, as each window of
// ApplyOptions.Window operations completes, so a 100,000-row file never
// sits in memory as a whole. The caller names the audit source (SourceCSV)
// and the policy rule the run needs (policy.CSVImport); each operation is
// still judged on its own, by the same code as its single-resource
// endpoint, and is atomic on its own. Scheduling is linear: an operation
// waiting for a bulkId runs as soon as that creation settles, before the
// operations after it; consecutive user creations are inserted with one
// set-based store call, and a batch the store refuses as a whole is retried
// one creation at a time, so a failure stays with the operation causing it.
// With ApplyOptions.DryRun nothing is written or audited: every operation
// is judged as in a real run (validation, policy, preconditions, userName
// uniqueness against the store and within the stream), later operations
// seeing what earlier ones would have done; group changes are not
// previewed (501). Service.Bulk is Apply with one window holding the whole
// request, the source SourceBulk and the rule bulk.run.
//
// A caller that applies a stream chunk by chunk can validate the next
// chunk's user creations while the store writes the current one
// (Service.Prebuild, Operation.Prebuilt): the run takes such a result only
// when it was built for the run's own principal and the tenant's current
// schema, and validates the creation itself otherwise.
//
// # Tenant settings and schema views
//
// Each tenant has settings (TenantSettings: sources, role catalogue,
// offices, organisation fields, notifications), read by every tier and
// changed by tier 3 (UpdateSettings) or, for roles, by imports
// (EnsureRoles). The schema registry given to New is the base every tenant
// shares; a tenant with organisation fields validates, filters and renders
// its users against its own view (TenantRegistry: the base plus the
// schema.OrgURN extension). Views are cached per tenant with the settings
// version they were built from and checked against the stored version at
// most every SettingsRefresh, so the common path is a map lookup and a
// change made through this service applies at once. A creation asking
// for a notification (Operation.Notify) carries its outbox message into
// the store's insert, so the message exists exactly when the user does.
//
// String values have documented maximum lengths (MaxUserNameLength and the
// other Max... constants), the same on every store, checked on every write.
package directory

import (
	"context"
	"errors"
	"fmt"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Service is the directory. It is safe for concurrent use.
type Service struct {
	store  store.Store
	reg    *schema.Registry
	now    func() time.Time
	newID  func() string
	logger *slog.Logger
	// tenants caches each tenant's schema view (tenantschema.go).
	tenants *tenantSchemas
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger for unexpected store errors.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// New returns a Service over st.
func New(st store.Store, reg *schema.Registry, opts ...Option) *Service {
	s := &Service{store: st, reg: reg, now: time.Now, newID: uuid.NewString, logger: slog.Default(), tenants: &tenantSchemas{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Registry returns the base schema registry: every tenant's view without
// its organisation extension (TenantRegistry gives a tenant's own).
func (s *Service) Registry() *schema.Registry { return s.reg }

// Ping reports whether the store is reachable and migrated.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// clock returns the current time at the store's precision.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Resource is a resource as the service returns it: its canonical document
// including computed attributes (User.groups, Group.members) but without id,
// meta and schemas, which a front end renders from the other fields.
//
// A resource read from the store may come undecoded: Doc is nil, Raw holds
// the stored JSON document and Groups the user's groups. Document decodes
// it; a front end that passes the document through unchanged may copy Raw
// and render Groups itself, saving a decode and an encode per resource.
type Resource struct {
	Type *schema.ResourceType
	ID   string
	Doc  schema.Doc
	// Raw is never written to once read (Index shares its memory).
	Raw          []byte
	Groups       []store.GroupRef
	Created      time.Time
	LastModified time.Time
	Version      int64
	// view is Raw indexed (Index), when indexed.
	view    jsondoc.Object
	indexed bool
}

// View returns the stored document indexed rather than decoded, without
// the attributes an export never shows (ExportProjection's rule), when an
// export walk with ExportQuery.Indexed read the resource; ok is false
// otherwise, and the caller reads Document. It holds neither groups nor
// members: Groups has them.
func (r *Resource) View() (jsondoc.Object, bool) {
	return r.view, r.indexed
}

// Document returns the resource's document, decoding Raw (and adding
// groups) on first use.
func (r *Resource) Document() (schema.Doc, error) {
	if r.Doc != nil || r.Raw == nil {
		return r.Doc, nil
	}
	doc, err := decodeDoc(r.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode stored %s %s: %w", r.Type.Name, r.ID, err)
	}
	if len(r.Groups) > 0 {
		doc["groups"] = GroupValues(r.Groups)
	}
	r.Doc = doc
	return doc, nil
}

// GroupValues is User.groups for the groups a user is directly in.
func GroupValues(groups []store.GroupRef) []any {
	list := make([]any, len(groups))
	for i, g := range groups {
		list[i] = GroupValue(g)
	}
	return list
}

// GroupValue is the User.groups element for a group the user is directly
// in.
func GroupValue(g store.GroupRef) map[string]any {
	return map[string]any{"value": g.ID, "display": g.DisplayName, "type": "direct"}
}

// ETag is the resource's weak entity tag.
func (r *Resource) ETag() string { return fmt.Sprintf(`W/"%d"`, r.Version) }

// List is one page of resources and the total that matched.
type List struct {
	Total     int
	Resources []*Resource
}

var idPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validID reports whether id could name a resource; anything else is 404
// without asking the store.
func validID(id string) bool { return idPattern.MatchString(id) }

// canonicalID lower-cases a valid id (ids are generated lower-case; clients
// may echo them in upper case).
func canonicalID(id string) (string, bool) {
	if !validID(id) {
		return id, false
	}
	return strings.ToLower(id), true
}

func notFound(rt *schema.ResourceType, id string) error {
	return scimerrors.ScimError{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %q not found.", rt.Name, truncate(id, 80))}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func invalidValue(detail string) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
}

// translate maps store errors onto SCIM errors; anything unexpected is
// logged and returned wrapped, for the front end to answer 500 without
// leaking its text.
func (s *Service) translate(ctx context.Context, rt *schema.ResourceType, id string, err error) error {
	var scimErr scimerrors.ScimError
	var refErr *store.ReferenceError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &scimErr):
		return scimErr
	case errors.Is(err, store.ErrNotFound):
		return notFound(rt, id)
	case errors.Is(err, store.ErrValueTooLarge):
		return invalidValue(fmt.Sprintf("A value of this %s is too long to store; see the documented maximum lengths.", rt.Name))
	case errors.As(err, &refErr):
		return invalidValue(fmt.Sprintf("Group members must be existing users or groups of this tenant, and a group cannot contain itself; unknown: %s.", joinIDs(refErr.IDs)))
	case errors.Is(err, store.ErrUnavailable):
		s.logger.WarnContext(ctx, "store unavailable", "resource", rt.Name, "id", id, "err", err)
		return Unavailable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", rt.Name, id, err)
	}
	s.logger.ErrorContext(ctx, "store error", "resource", rt.Name, "id", id, "err", err)
	return fmt.Errorf("%s %s: %w", rt.Name, id, err)
}

// RetryAfterSeconds is what front ends send as Retry-After with every 503
// answer (a saturated or unreachable store, a request cut short): how long
// a client should wait before retrying.
const RetryAfterSeconds = 2

// Unavailable is the SCIM error for store.ErrUnavailable: 503, nothing
// was done and the request may be retried. Front ends add a Retry-After
// header (RetryAfterSeconds) to every 503 they write.
func Unavailable() scimerrors.ScimError {
	return scimerrors.ScimError{Status: http.StatusServiceUnavailable,
		Detail: "The database is busy; nothing was changed, retry shortly."}
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i == 5 {
			return out + fmt.Sprintf(" and %d more", len(ids)-5)
		}
		if i > 0 {
			out += ", "
		}
		out += truncate(id, 80)
	}
	return out
}
