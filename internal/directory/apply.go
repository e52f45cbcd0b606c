package directory

import (
	"context"
	"errors"
	"iter"
	"net/http"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// OpKind is what an Operation does.
type OpKind int

// Operation kinds.
const (
	OpCreate  OpKind = iota + 1 // POST: Data is the resource
	OpReplace                   // PUT: Data is the resource
	OpPatch                     // PATCH: Data is a PatchOp message ({"Operations": [...]})
	OpDelete                    // DELETE: no Data
)

// Operation is one typed change in a stream given to Apply. The target of
// a replace, patch or delete is ID, or Ref: the BulkID of a creation
// earlier in the stream (in any earlier window) or later in the same
// window. Any "bulkId:<name>" string in Data is replaced by the id that
// creation produced, as in Bulk. Version, when set, is an If-Match
// precondition (an ETag such as W/"3").
//
// Notify, on a user creation, asks for the tenant's "you have an account"
// message (TenantSettings.Notifications) to the user's primary (else
// first) email, written to the outbox in the same transaction as the user;
// a user without an email, or a tenant without a sign-in URL, fails the
// operation. A dry run judges it the same way and writes nothing. It is
// ignored on other operations.
type Operation struct {
	Kind    OpKind
	Type    *schema.ResourceType
	ID      string
	Ref     string
	BulkID  string
	Version string
	Data    map[string]any
	Notify  bool
	// Prebuilt, on a user creation, is its validation done ahead of the
	// run by Prebuild from this Data. The run uses it instead of
	// validating again when it was made for the run's principal and the
	// tenant's current schema; otherwise it validates as usual.
	Prebuilt *Prebuilt
}

// DefaultWindow is the number of operations Apply schedules together when
// ApplyOptions.Window is not set.
const DefaultWindow = 1000

// ApplyOptions names who is applying a stream and how.
type ApplyOptions struct {
	// Source is recorded as the audit source of every change (SourceCSV, ...).
	Source string
	// Operation is the policy rule the caller needs for the whole run
	// (policy.CSVImport, policy.BulkRun); each operation is also decided
	// on its own, by its effect, as on its single-resource endpoint.
	Operation policy.Operation
	// Window is the number of operations scheduled together (default
	// DefaultWindow): a reference may point back to any earlier window,
	// forward only within its own.
	Window int
	// FailOnErrors stops the run after that many failed operations (0: no limit).
	FailOnErrors int
	// DryRun judges every operation exactly as a real run would
	// (validation, policy, preconditions, userName uniqueness against the
	// store and within the stream, bulkId references) and reports the
	// results, without writing anything or auditing. A later operation
	// sees what earlier ones would have done. Group changes are not
	// previewed: they fail with 501.
	DryRun bool
	// FreeUserName, in a dry run, tells userNames (normalised as
	// store.NormalizeUserName does) the caller has just looked up and
	// found no user of the tenant holding: the run takes its word rather
	// than asking the store again (a CSV preview looks every row's
	// userName up before its dry run). Names it does not vouch for are
	// looked up as usual. A name taken in between is still refused by the
	// real run.
	FreeUserName func(norm string) bool
}

// errApplyOptions reports a caller that named no audit source or rule.
var errApplyOptions = errors.New("directory: Apply needs ApplyOptions.Source and ApplyOptions.Operation")

// Apply runs a stream of operations with the rules of Bulk (validation,
// uniqueness, preconditions, tier checks by effect, audit; each operation
// atomic on its own, consecutive user creations inserted set-based) and
// hands emit one result per operation, in order, as each window
// completes. BulkResult.Index is the operation's position in the stream.
// emit returning false stops the run. The error is for the run as a
// whole: the caller may not run opts.Operation, or ctx ended.
func (s *Service) Apply(ctx context.Context, p policy.Principal, opts ApplyOptions, ops iter.Seq[Operation], emit func(BulkResult) bool) error {
	spelled := func(yield func(BulkOp) bool) {
		for op := range ops {
			if !yield(op.bulkOp()) {
				return
			}
		}
	}
	if err := s.apply(ctx, p, opts, spelled, emit); err != nil {
		return err
	}
	return ctx.Err()
}

// apply is Apply over operations spelled as in a bulk request (Bulk uses
// it with one window holding the whole request).
func (s *Service) apply(ctx context.Context, p policy.Principal, opts ApplyOptions, ops iter.Seq[BulkOp], emit func(BulkResult) bool) error {
	if opts.Source == "" || opts.Operation == "" {
		return errApplyOptions
	}
	if err := allow(p, opts.Operation, policy.Effect{}); err != nil {
		return err
	}
	if emit == nil {
		emit = func(BulkResult) bool { return true }
	}
	ctx = withSource(ctx, opts.Source)
	if opts.DryRun {
		dry := *s
		ds := newDryStore(s.store, s.reg)
		ds.free = opts.FreeUserName
		dry.store = ds
		s = &dry
	}
	window := opts.Window
	if window <= 0 {
		window = DefaultWindow
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return err
	}
	a := &applier{s: s, p: p, reg: reg, notify: newNotifier(s, p), opts: opts, emit: emit, ids: map[string]string{}, failed: map[string]error{}}
	batch := make([]BulkOp, 0, min(window, DefaultWindow))
	for op := range ops {
		if batch = append(batch, op); len(batch) == window {
			if !a.window(ctx, batch) {
				return nil
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		a.window(ctx, batch)
	}
	return nil
}

// applier carries what crosses windows: created and failed bulkIds, the
// failure count and the stream position.
type applier struct {
	s        *Service
	p        policy.Principal
	reg      *schema.Registry
	notify   *notifier
	opts     ApplyOptions
	emit     func(BulkResult) bool
	ids      map[string]string
	failed   map[string]error
	errCount int
	base     int
}

// window runs one window and emits its results; it reports whether the
// run goes on.
func (a *applier) window(ctx context.Context, ops []BulkOp) bool {
	r := newBulkRunCarrying(a, BulkRequest{Operations: ops, FailOnErrors: a.opts.FailOnErrors})
	r.run(ctx)
	for _, res := range r.finish(ctx) {
		res.Index += a.base
		if !a.emit(res) {
			return false
		}
	}
	a.errCount, a.base = r.errCount, a.base+len(ops)
	return !r.stopped() && ctx.Err() == nil
}

// bulkOp spells an Operation the way the bulk engine reads it.
func (op Operation) bulkOp() BulkOp {
	out := BulkOp{BulkID: op.BulkID, Version: op.Version, Data: op.Data, Notify: op.Notify && op.Kind == OpCreate}
	if op.Kind == OpCreate {
		out.pre = op.Prebuilt
	}
	switch op.Kind {
	case OpCreate:
		out.Method = http.MethodPost
	case OpReplace:
		out.Method = http.MethodPut
	case OpPatch:
		out.Method = http.MethodPatch
	case OpDelete:
		out.Method = http.MethodDelete
	}
	if op.Type != nil {
		out.Path = op.Type.Endpoint
	}
	switch {
	case op.Kind == OpCreate:
	case op.Ref != "":
		out.Path += "/" + bulkPrefix + op.Ref
	default:
		out.Path += "/" + op.ID
	}
	return out
}
