package csvbridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"unicode"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Outcome statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Outcome is what happened to a row at commit.
type Outcome struct {
	// Status is StatusSucceeded or StatusFailed.
	Status string `json:"status"`
	// ResourceID is the user the row created or changed.
	ResourceID string `json:"id,omitempty"`
	// ErrorCode and Error say why a row failed: a stable code (the row's
	// first error's for rows that failed planning; stale_preview, forbidden,
	// conflict, invalid_value, not_found, ... for the directory's
	// refusals, see ErrorCode) and the text an admin reads.
	ErrorCode string `json:"errorCode,omitempty"`
	Error     string `json:"error,omitempty"`
	// Action is set when what happened differs from the planned action
	// (an update that found nothing left to change is unchanged).
	Action Action `json:"action,omitempty"`
}

// Commit applies a plan's rows through the directory's streaming apply
// (source csv, rule csv.import, one window of len(rows)), each row atomic
// on its own and judged again (policy, validation, uniqueness) as it is
// written. Rows that touch an existing user carry the version they were
// planned against: if the user changed since the preview the row fails
// with stale_preview and changes nothing. emit gets every row's index in
// rows and its Outcome, in row order: rows that write nothing at once
// (unchanged and skipped rows succeed, error rows fail with their first
// error), writing rows as the directory reports them. The error is for
// the run as a whole (p may not import, ctx ended); rows not emitted then
// were not attempted.
func Commit(ctx context.Context, dir *directory.Service, p policy.Principal, rt *schema.ResourceType, rows []Planned, emit func(i int, o Outcome)) error {
	return commitAs(ctx, dir, p, policy.CSVImport, rt, rows, emit)
}

// commitAs is Commit under the policy rule (csv.import for imports,
// csv.action for actions). A row with Group set PATCHes that group.
func commitAs(ctx context.Context, dir *directory.Service, p policy.Principal, rule policy.Operation, rt *schema.ResourceType, rows []Planned, emit func(i int, o Outcome)) error {
	var idx []int
	var ops []directory.Operation
	writes := make([]bool, len(rows))
	for i := range rows {
		if op, ok := rows[i].Operation(rt); ok {
			if rows[i].Group != "" {
				op.Type, op.ID, op.Version = dir.Registry().Group, rows[i].Group, ""
			}
			idx, ops, writes[i] = append(idx, i), append(ops, op), true
		}
	}
	next := 0
	passUntil := func(end int) {
		for ; next < end; next++ {
			if !writes[next] {
				emit(next, passive(&rows[next]))
			}
		}
	}
	if len(ops) > 0 {
		opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: rule, Window: len(ops)}
		err := dir.Apply(ctx, p, opts, slices.Values(ops), func(res directory.BulkResult) bool {
			i := idx[res.Index]
			passUntil(i)
			emit(i, applied(&rows[i], res))
			next = i + 1
			return true
		})
		if err != nil {
			return fmt.Errorf("commit rows %d-%d: %w", rows[0].Number, rows[len(rows)-1].Number, err)
		}
	}
	passUntil(len(rows))
	return nil
}

// passive is the outcome of a row that writes nothing.
func passive(r *Planned) Outcome {
	if r.Action != PlanError {
		return Outcome{Status: StatusSucceeded, ResourceID: r.ResourceID}
	}
	o := Outcome{Status: StatusFailed, ErrorCode: CodeInternal, Error: "The row was planned as an error without a reason."}
	if errs := r.errors(); len(errs) > 0 {
		o.ErrorCode, o.Error = errs[0].Code, errs[0].String()
	}
	return o
}

// applied is the outcome of a row the directory ran.
func applied(r *Planned, res directory.BulkResult) Outcome {
	if res.Err == nil {
		o := Outcome{Status: StatusSucceeded, ResourceID: res.ID}
		if r.Group != "" {
			o.ResourceID = r.ResourceID // the user, not the group the PATCH went to
			return o
		}
		if (r.Action == PlanUpdate || r.Action == PlanDeactivate) && res.Version == r.Version {
			o.Action = PlanUnchanged
		}
		return o
	}
	code, msg := ErrorCode(res.Err)
	if code == CodeStalePreview {
		who := r.UserName
		if who == "" {
			who = r.ResourceID
		}
		msg = fmt.Sprintf("User %s changed after the preview, so this row was not applied. Upload the file again to see the change and a new preview.", quoteValue(who))
	}
	return Outcome{Status: StatusFailed, ResourceID: r.ResourceID, ErrorCode: code, Error: msg}
}

// ErrorCode turns a directory error into a stable row error code and the
// service's detail text: stale_preview (412: the user changed since the
// preview), forbidden (403), not_found (404), conflict (409, userName
// uniqueness), internal_error (5xx), otherwise the SCIM scimType in
// snake case (invalid_value, invalid_syntax, mutability, invalid_path,
// no_target, ...), invalid_value when there is none.
func ErrorCode(err error) (code, message string) {
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		return CodeInternal, "An internal error occurred; it has been logged."
	}
	switch {
	case se.Status == http.StatusPreconditionFailed:
		return CodeStalePreview, se.Detail
	case se.Status == http.StatusForbidden:
		return CodeForbidden, se.Detail
	case se.Status == http.StatusNotFound:
		return CodeNotFound, se.Detail
	case se.Status == http.StatusConflict || se.ScimType == scimerrors.ScimTypeUniqueness:
		return CodeConflict, se.Detail
	case se.Status >= 500:
		return CodeInternal, se.Detail
	case se.ScimType != "":
		return snake(string(se.ScimType)), se.Detail
	}
	return CodeInvalidValue, se.Detail
}

// snake turns invalidValue into invalid_value.
func snake(s string) string {
	var out []rune
	for _, r := range s {
		if unicode.IsUpper(r) {
			out = append(out, '_')
			r = unicode.ToLower(r)
		}
		out = append(out, r)
	}
	return string(out)
}

// Reconcile decides, for rows a crashed worker may or may not have
// applied (marked applying when it died), whether each took effect,
// reading the directory in batches (userNames for creates, ids for the
// rest):
//   - a create took effect if a user with the planned userName exists
//     (succeeded, with its id);
//   - an update or a deactivation if the user's version is no longer the
//     planned one (succeeded); if the user is gone it can never apply
//     (failed, not_found);
//   - a delete if the user is gone (succeeded);
//   - a membership change (Group set) is never known to be applied: it
//     is applied again, which changes nothing when it was (adding a
//     member twice or removing a non-member writes nothing).
//
// done[i] false means not applied: the runner applies row i again (its
// version check still holds, so a row applied meanwhile by someone else
// fails as stale rather than twice). Rows that write nothing are done,
// with the outcome Commit gives them.
func Reconcile(ctx context.Context, dir *directory.Service, p policy.Principal, rows []Planned) (outcomes []Outcome, done []bool, err error) {
	var names, ids []string
	for i := range rows {
		switch r := &rows[i]; {
		case r.Action == PlanCreate:
			names = append(names, r.UserName)
		case r.Group != "":
		case r.Action.Writes():
			ids = append(ids, r.ResourceID)
		}
	}
	byName, err := usersBy(ctx, dir, p, "userName", names, func(res *directory.Resource, doc schema.Doc) string {
		name, _ := doc["userName"].(string)
		return schema.Fold(name)
	})
	if err != nil {
		return nil, nil, err
	}
	byID, err := usersBy(ctx, dir, p, "id", ids, func(res *directory.Resource, _ schema.Doc) string { return res.ID })
	if err != nil {
		return nil, nil, err
	}
	outcomes, done = make([]Outcome, len(rows)), make([]bool, len(rows))
	for i := range rows {
		outcomes[i], done[i] = reconcileRow(&rows[i], byName, byID)
	}
	return outcomes, done, nil
}

func reconcileRow(r *Planned, byName, byID map[string]*directory.Resource) (Outcome, bool) {
	if r.Group != "" && r.Action.Writes() {
		return Outcome{}, false
	}
	switch r.Action {
	case PlanCreate:
		if u := byName[schema.Fold(r.UserName)]; u != nil {
			return Outcome{Status: StatusSucceeded, ResourceID: u.ID}, true
		}
		return Outcome{}, false
	case PlanUpdate, PlanDeactivate:
		u := byID[r.ResourceID]
		switch {
		case u == nil:
			return Outcome{Status: StatusFailed, ResourceID: r.ResourceID, ErrorCode: CodeNotFound,
				Error: "The user was deleted before this row could be applied."}, true
		case u.ETag() != r.Version:
			return Outcome{Status: StatusSucceeded, ResourceID: u.ID}, true
		}
		return Outcome{}, false
	case PlanDelete:
		if byID[r.ResourceID] == nil {
			return Outcome{Status: StatusSucceeded, ResourceID: r.ResourceID}, true
		}
		return Outcome{}, false
	}
	return passive(r), true
}

// usersBy looks users up by one attribute and maps them by key.
func usersBy(ctx context.Context, dir *directory.Service, p policy.Principal, attr string, values []string,
	key func(*directory.Resource, schema.Doc) string) (map[string]*directory.Resource, error) {
	out := map[string]*directory.Resource{}
	if len(values) == 0 {
		return out, nil
	}
	found, err := dir.UsersByKeys(ctx, p, attr, values, directory.Lookup{})
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	for _, res := range found {
		doc, err := res.Document()
		if err != nil {
			return nil, err
		}
		out[key(res, doc)] = res
	}
	return out, nil
}
