package csvbridge

import (
	"strconv"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Action is what the planner decided for a row.
type Action string

// Row actions in a preview (issue 12).
const (
	PlanCreate     Action = "create"
	PlanUpdate     Action = "update"
	PlanUnchanged  Action = "unchanged"
	PlanDeactivate Action = "deactivate"
	PlanDelete     Action = "delete"
	PlanSkip       Action = "skip"
	// PlanDuplicate: an insert-only profile's row whose user exists; it
	// writes nothing (seed 002's duplicate records).
	PlanDuplicate Action = "duplicate"
	PlanError     Action = "error"
)

// Writes reports whether committing a row with action a writes anything.
func (a Action) Writes() bool {
	switch a {
	case PlanCreate, PlanUpdate, PlanDeactivate, PlanDelete:
		return true
	}
	return false
}

// Change is one field of an update's diff: the attribute path and its
// value before and after (nil: absent).
type Change struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// Planned is one row of a plan: what the row will do, against which user
// as it was when planned, and how. It is JSON: jobs store it per row, the
// API shows it (rows with their diffs and errors), the report repeats its
// cells. Everything a commit needs is in it (Operation reads only these
// fields), so a plan stored as JSON can be committed by another process.
type Planned struct {
	// Number is the row as the spreadsheet shows it; Cells its cells as
	// written.
	Number int      `json:"row"`
	Cells  []string `json:"cells"`
	Action Action   `json:"action"`
	// ResourceID and Version name the existing user the row matched and
	// its ETag when planned (update, unchanged, deactivate, delete); a
	// commit applies the row only if the user still has that version.
	ResourceID string `json:"id,omitempty"`
	Version    string `json:"version,omitempty"`
	// UserName is the row's user's userName (created or matched; after a
	// rename, the new one), for people reading the preview, for checks
	// across the file and for Reconcile.
	UserName string `json:"userName,omitempty"`
	// Diff is an update's field-level difference (a deactivation's too:
	// active true -> false).
	Diff []Change `json:"diff,omitempty"`
	// Create is the SCIM resource a create sends.
	Create map[string]any `json:"create,omitempty"`
	// Patch holds the PatchOp operations of an update or a deactivation
	// ({"op", "path", "value"} objects).
	Patch []map[string]any `json:"patch,omitempty"`
	// Group, when set, is the group whose members the row's Patch changes
	// (an action's membership change of the row's user): the PATCH goes to
	// that group, without a version (a group's version moves with every
	// member change).
	Group string `json:"group,omitempty"`
	// Links are the row's references to other users, set once every row
	// of the file is written (the second pass of a commit).
	Links []Link `json:"links,omitempty"`
	// Notify asks, for a create, for the "you have an account" message.
	Notify bool `json:"notify,omitempty"`
	// Issues are the row's errors and warnings (reading, validation,
	// planning and the dry run's policy and uniqueness checks).
	Issues []Issue `json:"issues,omitempty"`
	// prebuilt is a create's validation done ahead of its commit
	// (committer.prebuild); not stored.
	prebuilt *directory.Prebuilt
}

// Operation is the row's typed directory operation: a create (Create),
// a PATCH merge (Patch: an update, or a deactivation replacing active with
// false) or a delete, with Version set to the ETag the user had when
// planned for rows that touch an existing user, so the directory refuses
// the write (412) if the user changed since. It is false for rows that
// write nothing (unchanged, skip, error). A create's BulkID is "row<N>"
// (N the row number), unique within a file.
func (r *Planned) Operation(rt *schema.ResourceType) (directory.Operation, bool) {
	switch r.Action {
	case PlanCreate:
		return directory.Operation{Kind: directory.OpCreate, Type: rt, BulkID: "row" + strconv.Itoa(r.Number), Data: r.Create, Notify: r.Notify,
			Prebuilt: r.prebuilt}, true
	case PlanUpdate, PlanDeactivate:
		if len(r.Patch) == 0 {
			return directory.Operation{}, false // only references change: the second pass sets them
		}
		ops := make([]any, len(r.Patch))
		for i, op := range r.Patch {
			ops[i] = op
		}
		data := map[string]any{"schemas": []any{directory.PatchOpURN}, "Operations": ops}
		return directory.Operation{Kind: directory.OpPatch, Type: rt, ID: r.ResourceID, Version: r.Version, Data: data}, true
	case PlanDelete:
		return directory.Operation{Kind: directory.OpDelete, Type: rt, ID: r.ResourceID, Version: r.Version}, true
	}
	return directory.Operation{}, false
}

// errors returns the row's error issues.
func (r *Planned) errors() []Issue {
	var out []Issue
	for _, is := range r.Issues {
		if is.Severity == SeverityError {
			out = append(out, is)
		}
	}
	return out
}

// fail turns the row into an error row with the issue.
func (r *Planned) fail(is Issue) {
	is.Row, is.Severity = r.Number, SeverityError
	r.Issues = append(r.Issues, is)
	r.Action = PlanError
}
