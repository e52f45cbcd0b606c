package csvbridge

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
	PlanError      Action = "error"
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
// cells.
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
	// UserName is the row's user's userName (created or matched), for
	// people reading the preview and for references by later rows.
	UserName string `json:"userName,omitempty"`
	// Diff is an update's field-level difference.
	Diff []Change `json:"diff,omitempty"`
	// Create is the SCIM resource a create sends.
	Create map[string]any `json:"create,omitempty"`
	// Patch holds the PatchOp operations of an update or a deactivation
	// ({"op", "path", "value"} objects).
	Patch []map[string]any `json:"patch,omitempty"`
	// Issues are the row's errors and warnings (reading, validation,
	// planning and the dry run's policy and uniqueness checks).
	Issues []Issue `json:"issues,omitempty"`
}
