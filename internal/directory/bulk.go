package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// BulkOp is one operation of a bulk request (RFC 7644 §3.7). Path is
// "/Users" or "/Groups" for POST and "/Users/<id>" otherwise, where <id>
// may be "bulkId:<id>". Data is the resource (POST, PUT) or the PatchOp
// message (PATCH); any string "bulkId:<id>" in it is replaced by the id of
// the resource that operation created.
type BulkOp struct {
	Method  string
	Path    string
	BulkID  string
	Version string
	Data    map[string]any
	// Notify is Operation.Notify (a /Bulk request never sets it).
	Notify bool
	// pre is Operation.Prebuilt.
	pre *Prebuilt
}

// BulkRequest is a whole bulk request. After FailOnErrors failed
// operations (0: no limit) the remaining ones are not attempted.
type BulkRequest struct {
	Operations   []BulkOp
	FailOnErrors int
}

// BulkResult is the outcome of one attempted operation, in request order.
// Status is the HTTP status the operation would have had on its own
// endpoint; Err is a SCIM error when it failed. Type and ID name the
// resource (for its location) when there is one.
type BulkResult struct {
	Index   int
	Method  string
	BulkID  string
	Type    *schema.ResourceType
	ID      string
	Version string
	Status  int
	Err     error
}

// Bulk runs a bulk request; it needs the bulk.run tier (else 403 for the
// whole request). Each operation is atomic on its own and goes through
// the same service method as its single-resource endpoint (validation,
// uniqueness, PATCH semantics, preconditions, tier checks by effect, audit);
// the request as a whole is not: operations before a failure stay applied.
//
// Order: operations run in request order, except that one referring to a
// bulkId waits until the operation defining it has run (forward
// references). Circular references among creations are broken as RFC 7644
// §3.7.1 describes: the first such resource is created without the
// references that cannot be resolved yet, and once every creation has run
// it is replaced with its complete, resolved data. Consecutive creations
// of users without references are inserted together as set-based SQL.
//
// Bulk is Apply with the audit source SourceBulk, the rule bulk.run and
// one window holding the whole request.
func (s *Service) Bulk(ctx context.Context, p policy.Principal, req BulkRequest) ([]BulkResult, error) {
	var out []BulkResult
	opts := ApplyOptions{Source: SourceBulk, Operation: policy.BulkRun, Window: len(req.Operations), FailOnErrors: req.FailOnErrors}
	err := s.apply(ctx, p, opts, slices.Values(req.Operations), func(r BulkResult) bool { out = append(out, r); return true })
	if err != nil {
		return nil, err
	}
	return out, nil
}

type bulkRun struct {
	s        *Service
	p        policy.Principal
	reg      *schema.Registry // the tenant's registry (TenantRegistry)
	notify   *notifier        // for creations with Notify
	req      BulkRequest
	ops      []parsedOp
	results  []*BulkResult
	ids      map[string]string // bulkId -> created id
	failed   map[string]error  // bulkId -> why its creation failed
	defined  map[string]int    // bulkId -> index of the POST defining it
	fixups   []int             // creations made without some references
	errCount int
	// scheduling (see run)
	ready     readyQueue
	pending   []int            // per operation: references not yet settled
	waiting   map[string][]int // bulkId -> operations waiting for it
	doneCount int
	cycleFrom int // no creation before it can break a cycle
}

type parsedOp struct {
	op   BulkOp
	rt   *schema.ResourceType
	id   string   // target id or "bulkId:x" ("" for POST)
	refs []string // bulkIds referenced in path or data
	err  error    // invalid operation
	done bool
}

// newBulkRunCarrying starts a run that knows the bulkIds earlier windows
// created (ids) or failed to create, and their failure count.
func newBulkRunCarrying(a *applier, req BulkRequest) *bulkRun {
	r := &bulkRun{s: a.s, p: a.p, reg: a.reg, notify: a.notify, req: req, ids: a.ids, failed: a.failed, errCount: a.errCount, defined: map[string]int{}}
	r.results = make([]*BulkResult, len(req.Operations))
	for i, op := range req.Operations {
		r.ops = append(r.ops, r.parse(i, op))
	}
	return r
}

func bulkError(status int, typ scimerrors.ScimType, format string, args ...any) error {
	return scimerrors.ScimError{Status: status, ScimType: typ, Detail: fmt.Sprintf(format, args...)}
}

// parse validates an operation's method and path and records its bulkId.
func (r *bulkRun) parse(i int, op BulkOp) parsedOp {
	po := parsedOp{op: op, refs: referencedBulkIDs(op)}
	po.op.Method = strings.ToUpper(strings.TrimSpace(op.Method))
	seg := strings.Split(strings.Trim(op.Path, "/"), "/")
	rt, ok := r.reg.ByEndpoint(seg[0])
	switch {
	case !ok:
		po.err = bulkError(http.StatusBadRequest, scimerrors.ScimTypeInvalidPath, "Path %q names no resource type; use /Users or /Groups.", truncate(op.Path, 120))
	case po.op.Method == http.MethodPost && len(seg) != 1, po.op.Method != http.MethodPost && len(seg) != 2:
		po.err = bulkError(http.StatusBadRequest, scimerrors.ScimTypeInvalidPath, "%s needs path %s.", po.op.Method, pathShape(po.op.Method))
	case !validMethod(po.op.Method):
		po.err = bulkError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Method %q is not one of POST, PUT, PATCH, DELETE.", truncate(op.Method, 20))
	}
	po.rt = rt
	if len(seg) == 2 {
		po.id = seg[1]
	}
	if po.err == nil {
		po.err = r.define(i, po)
	}
	return po
}

func validMethod(m string) bool {
	switch m {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func pathShape(method string) string {
	if method == http.MethodPost {
		return "/Users or /Groups"
	}
	return "/Users/<id> or /Groups/<id>"
}

func (r *bulkRun) define(i int, po parsedOp) error {
	if po.op.Method != http.MethodPost {
		return nil
	}
	if po.op.BulkID == "" {
		return bulkError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "A POST in a bulk request needs a bulkId.")
	}
	if prev, dup := r.defined[po.op.BulkID]; dup {
		return bulkError(http.StatusBadRequest, scimerrors.ScimTypeUniqueness, "bulkId %q is already used by operation %d.", truncate(po.op.BulkID, 80), prev)
	}
	if r.earlier(po.op.BulkID) {
		return bulkError(http.StatusBadRequest, scimerrors.ScimTypeUniqueness, "bulkId %q is already used by an earlier operation.", truncate(po.op.BulkID, 80))
	}
	r.defined[po.op.BulkID] = i
	return nil
}

// record stores an operation's result and counts failures.
func (r *bulkRun) record(i int, res *BulkResult) {
	res.Index, res.Method, res.BulkID = i, r.ops[i].op.Method, r.ops[i].op.BulkID
	r.results[i] = res
	if !r.ops[i].done {
		r.doneCount++
	}
	r.ops[i].done = true
	b, post := r.ops[i].op.BulkID, r.ops[i].op.Method == http.MethodPost
	switch {
	case res.Err != nil:
		r.errCount++
		if b != "" && post {
			r.failed[b] = res.Err
			r.settle(b)
		}
	case post:
		r.ids[b] = res.ID
		r.settle(b)
	}
}

// earlier reports whether an earlier window already defined bulkId b.
func (r *bulkRun) earlier(b string) bool {
	_, created := r.ids[b]
	_, failed := r.failed[b]
	return created || failed
}

func (r *bulkRun) stopped() bool {
	return r.req.FailOnErrors > 0 && r.errCount >= r.req.FailOnErrors
}

// failure wraps an error into a result, hiding internal errors.
func (r *bulkRun) failure(ctx context.Context, err error) *BulkResult {
	var se scimerrors.ScimError
	switch {
	case errors.As(err, &se):
	case ctx.Err() != nil:
		// The run was cancelled (a client gone, a server stopping): not an
		// error of the operation, and not worth a log line per operation.
		se = scimerrors.ScimError{Status: http.StatusServiceUnavailable, Detail: "The request was cancelled before this operation ran."}
	default:
		r.s.logger.ErrorContext(ctx, "bulk operation failed", slog.Any("err", err))
		se = scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "An internal error occurred; it has been logged."}
	}
	return &BulkResult{Status: se.Status, Err: se}
}
