package csvbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Job kinds (store.Job.Kind).
const (
	KindImport = "import"
	KindAction = "action"
	KindExport = "export"
)

// Action operations: what an action does to every user its filter selects.
const (
	ActAddRole         = "add-role"
	ActRemoveRole      = "remove-role"
	ActAddGroup        = "add-group"
	ActRemoveGroup     = "remove-group"
	ActDeactivate      = "deactivate"
	ActReactivate      = "reactivate"
	maxActionRoleChars = 256
)

// ActOperations lists the action operations.
var ActOperations = []string{ActAddRole, ActRemoveRole, ActAddGroup, ActRemoveGroup, ActDeactivate, ActReactivate}

// ActionRequest asks for an action on a filtered set of users (seed 002's
// "assign role"): the users Filter and Preset select (combined by and;
// preset "all" for everyone, and at least one of the two must be given)
// and the operation with its Value: the role for add-role and
// remove-role, the group (its id or displayName) for add-group and
// remove-group, nothing for deactivate and reactivate.
type ActionRequest struct {
	Filter    string `json:"filter,omitempty"`
	Preset    string `json:"preset,omitempty"`
	Operation string `json:"operation"`
	Value     string `json:"value,omitempty"`
}

// ActionSpec is an action as its job keeps it (in the job's detail): the
// request resolved (the combined filter, the group's id and name).
type ActionSpec struct {
	Operation string `json:"operation"`
	Value     string `json:"value,omitempty"`
	Filter    string `json:"filter"`
	Preset    string `json:"preset,omitempty"`
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
}

// actionProfile is the commit policy of every action job: the valid rows
// are applied and the refused ones reported; rows may be excluded.
var actionProfile = &Profile{Name: "", Commit: CommitApplyValid}

// actionHeader is the report's columns before the report columns.
var actionHeader = []string{"id", "userName"}

// SubmitAction checks an action request and stores it as a new action
// job in state validating: the worker then walks the selected users and
// stores the preview (one row per user: update, deactivate, unchanged or
// error), which Commit applies like an import's. The caller needs
// csv.action (tier 1) and, for group operations, group.update (tier 2).
// A bad operation, value, preset or filter is a 400 and no job.
func (j *Jobs) SubmitAction(ctx context.Context, p policy.Principal, req ActionRequest) (store.Job, error) {
	if err := allow(p, policy.CSVAction); err != nil {
		return store.Job{}, err
	}
	spec, err := j.resolveAction(ctx, p, req)
	if err != nil {
		return store.Job{}, err
	}
	principal, err := json.Marshal(p)
	if err != nil {
		return store.Job{}, fmt.Errorf("encode principal: %w", err)
	}
	now := j.now().UTC()
	job := store.Job{ID: uuid.NewString(), TenantID: p.Tenant, Kind: KindAction, State: store.JobValidating,
		Actor: actor(p), Principal: principal, Counts: map[string]int{}, Summary: "Selecting the users.",
		Created: now, Updated: now, Expires: now.Add(j.retention), Version: 1}
	if err := setDetail(&job, &Detail{Header: actionHeader, Action: spec}); err != nil {
		return store.Job{}, err
	}
	if err := j.st.CreateJob(ctx, job, nil); err != nil {
		return store.Job{}, fmt.Errorf("create job: %w", err)
	}
	j.Wake()
	return job, nil
}

// resolveAction checks a request and resolves its filter and group.
func (j *Jobs) resolveAction(ctx context.Context, p policy.Principal, req ActionRequest) (*ActionSpec, error) {
	op := strings.ToLower(strings.TrimSpace(req.Operation))
	if !slices.Contains(ActOperations, op) {
		return nil, errorf(http.StatusBadRequest, "invalidValue", "operation %q is not an action; use one of: %s.", req.Operation, strings.Join(ActOperations, ", "))
	}
	spec := &ActionSpec{Operation: op, Value: strings.TrimSpace(req.Value), Preset: strings.TrimSpace(req.Preset)}
	if err := checkActionValue(spec); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Filter) == "" && spec.Preset == "" {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "Name the users: a filter, or a preset (preset=all for every user).")
	}
	filter, err := CombineFilter(spec.Preset, req.Filter)
	if err != nil {
		return nil, err
	}
	if err := j.dir.CheckFilter(ctx, p, ExportUsers, filter); err != nil {
		return nil, err
	}
	spec.Filter = filter
	if op == ActAddRole {
		if spec.Value, err = j.catalogueRole(ctx, p, spec.Value); err != nil {
			return nil, err
		}
	}
	if op == ActAddGroup || op == ActRemoveGroup {
		if err := allow(p, policy.GroupUpdate); err != nil {
			return nil, err
		}
		if spec.GroupID, spec.GroupName, err = j.findGroup(ctx, p, spec.Value); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

func checkActionValue(spec *ActionSpec) error {
	switch spec.Operation {
	case ActDeactivate, ActReactivate:
		if spec.Value != "" {
			return errorf(http.StatusBadRequest, "invalidValue", "%s takes no value.", spec.Operation)
		}
		return nil
	case ActAddGroup, ActRemoveGroup:
		if spec.Value == "" {
			return errorf(http.StatusBadRequest, "invalidValue", "%s needs a value: the group's id or displayName.", spec.Operation)
		}
		return nil
	}
	if spec.Value == "" {
		return errorf(http.StatusBadRequest, "invalidValue", "%s needs a value: the role.", spec.Operation)
	}
	if n := utf8.RuneCountInString(spec.Value); n > maxActionRoleChars {
		return errorf(http.StatusBadRequest, "invalidValue", "The role is %d characters long; at most %d are allowed.", n, maxActionRoleChars)
	}
	return nil
}

// catalogueRole checks a role add-role assigns against the tenant's role
// catalogue and returns the catalogue's spelling: a tenant that keeps a
// catalogue assigns only its roles (seed 002 picks from the defined
// ones); one without a catalogue takes any role, as SCIM clients send.
func (j *Jobs) catalogueRole(ctx context.Context, p policy.Principal, role string) (string, error) {
	ts, err := j.dir.Settings(ctx, p)
	if err != nil {
		return "", err
	}
	if len(ts.Roles) == 0 {
		return role, nil
	}
	if spelling, ok := ts.Role(role); ok {
		return spelling, nil
	}
	return "", errorf(http.StatusBadRequest, "invalidValue", "Role %s does not exist in this tenant's role catalogue. %s Add it first (POST /settings/roles, tier 1).",
		quoteValue(role), listHint("Roles", ts.Roles))
}

// findGroup finds a group by id, else by displayName (exactly one).
func (j *Jobs) findGroup(ctx context.Context, p policy.Principal, name string) (id, display string, err error) {
	if _, perr := uuid.Parse(name); perr == nil {
		g, err := j.dir.GetGroup(ctx, p, name, false)
		if err == nil {
			doc, derr := g.Document()
			if derr != nil {
				return "", "", derr
			}
			display, _ = doc["displayName"].(string)
			return g.ID, display, nil
		}
		var se scimerrors.ScimError
		if !errors.As(err, &se) || se.Status != http.StatusNotFound {
			return "", "", err
		}
	}
	list, err := j.dir.ListGroups(ctx, p, directory.ListQuery{Filter: fmt.Sprintf("displayName eq %s", quoteFilter(name)), Count: 2}, false)
	if err != nil {
		return "", "", err
	}
	switch len(list.Resources) {
	case 0:
		return "", "", errorf(http.StatusBadRequest, "invalidValue", "There is no group %q (by id or displayName).", name)
	case 1:
		return list.Resources[0].ID, name, nil
	}
	return "", "", errorf(http.StatusBadRequest, "invalidValue", "Several groups are named %q; name the group by its id.", name)
}

// quoteFilter quotes a string for a SCIM filter (JSON string syntax).
func quoteFilter(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// CombineFilter joins a preset (PresetFilter) and a filter with and.
func CombineFilter(preset, filter string) (string, error) {
	pf, err := PresetFilter(preset)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, 2)
	for _, f := range []string{pf, strings.TrimSpace(filter)} {
		if f != "" {
			parts = append(parts, "("+f+")")
		}
	}
	return strings.Join(parts, " and "), nil
}

// rule is the policy rule deciding each user's change.
func (s *ActionSpec) rule() policy.Operation {
	switch s.Operation {
	case ActDeactivate:
		return policy.UserDeactivate
	case ActAddGroup, ActRemoveGroup:
		return policy.GroupUpdate
	}
	return policy.UserUpdate
}

// planUser is one selected user's row of an action's preview: the change
// (a PATCH of the user, or of the group for memberships), unchanged when
// the user is already in the target state, or an error (forbidden) when
// the user's tier is above the caller's, whatever the change.
func (s *ActionSpec) planUser(p policy.Principal, r *directory.Resource, number int) (Planned, error) {
	doc, err := r.Document()
	if err != nil {
		return Planned{}, err
	}
	userName, _ := doc["userName"].(string)
	pr := Planned{Number: number, Cells: []string{r.ID, userName}, ResourceID: r.ID, Version: r.ETag(), UserName: userName}
	tier := userTier(doc)
	self := p.Kind == policy.KindPerson && p.UserID != "" && p.UserID == r.ID
	if err := policy.Decide(p, s.rule(), policy.Effect{TargetTierBefore: tier, TargetTierAfter: tier, TargetIsSelf: self}); err != nil {
		pr.Action = PlanError
		pr.fail(Issue{Code: CodeForbidden, Rule: "tier", Column: "tier", Message: "Forbidden: " + err.Error() + "."})
		return pr, nil
	}
	s.change(&pr, doc, r)
	return pr, nil
}

// change fills in the row's action, diff and PATCH.
func (s *ActionSpec) change(pr *Planned, doc schema.Doc, r *directory.Resource) {
	pr.Action = PlanUnchanged
	switch s.Operation {
	case ActAddRole:
		if !hasRole(doc, s.Value) {
			pr.Action, pr.Diff = PlanUpdate, []Change{{Path: "roles", New: s.Value}}
			pr.Patch = []map[string]any{{"op": "add", "path": "roles", "value": []any{map[string]any{"value": s.Value}}}}
		}
	case ActRemoveRole:
		if hasRole(doc, s.Value) {
			pr.Action, pr.Diff = PlanUpdate, []Change{{Path: "roles", Old: s.Value}}
			pr.Patch = []map[string]any{{"op": "remove", "path": "roles[value eq " + quoteFilter(s.Value) + "]"}}
		}
	case ActDeactivate, ActReactivate:
		want := s.Operation == ActReactivate
		if active, _ := doc["active"].(bool); active != want {
			pr.Action, pr.Diff = PlanUpdate, []Change{{Path: "active", Old: active, New: want}}
			if !want {
				pr.Action = PlanDeactivate
			}
			pr.Patch = []map[string]any{{"op": "replace", "path": "active", "value": want}}
		}
	case ActAddGroup, ActRemoveGroup:
		s.membership(pr, r)
	}
}

// membership plans a group membership change: a PATCH of the group
// naming the user (Planned.Group).
func (s *ActionSpec) membership(pr *Planned, r *directory.Resource) {
	member := slices.ContainsFunc(r.Groups, func(g store.GroupRef) bool { return g.ID == s.GroupID })
	add := s.Operation == ActAddGroup
	if member == add {
		return
	}
	pr.Action, pr.Group = PlanUpdate, s.GroupID
	if add {
		pr.Diff = []Change{{Path: "groups", New: s.GroupName}}
		pr.Patch = []map[string]any{{"op": "add", "path": "members", "value": []any{map[string]any{"value": r.ID}}}}
		return
	}
	pr.Diff = []Change{{Path: "groups", Old: s.GroupName}}
	pr.Patch = []map[string]any{{"op": "remove", "path": "members", "value": []any{map[string]any{"value": r.ID}}}}
}

// hasRole reports whether a user document holds the role (compared as
// the schema compares roles.value: case-insensitively).
func hasRole(doc schema.Doc, role string) bool {
	list, _ := doc["roles"].([]any)
	for _, el := range list {
		m, _ := el.(map[string]any)
		if v, _ := m["value"].(string); schema.Fold(v) == schema.Fold(role) {
			return true
		}
	}
	return false
}

// userTier is a user document's support tier (TierNone when it has none).
func userTier(doc schema.Doc) policy.Tier {
	ext, _ := doc[schema.SupportURN].(map[string]any)
	name, _ := ext["tier"].(string)
	t, err := policy.ParseTier(name)
	if err != nil {
		return policy.TierNone
	}
	return t
}

// planAction is an action job's validation: it walks the users the
// filter selects, plans a row for each (chunk by chunk, the user changes
// checked by the directory's dry run like an import's), stores the rows
// by position and marks the job validated. A restart walks again from
// the first user; rows a longer earlier walk stored beyond the new end are
// stored again as skipped.
func (j *Jobs) planAction(ctx context.Context, job store.Job) error {
	p, err := principalOf(job)
	if err != nil {
		return err
	}
	d := detailOf(job)
	if d.Action == nil {
		return fmt.Errorf("job %s: no action", job.ID)
	}
	previous, seq := job.Done, 0
	batch := make([]*directory.Resource, 0, j.chunk)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows, err := j.planActionChunk(ctx, p, d.Action, batch, seq)
		if err != nil {
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
		if err := j.st.InsertJobRows(ctx, job.TenantID, job.ID, j.owner, rows); err != nil {
			return fmt.Errorf("job %s: store rows: %w", job.ID, err)
		}
		seq += len(batch)
		batch = batch[:0]
		return j.renew(ctx, job, store.JobValidating, func(cur *store.Job) { cur.Done, cur.Total = seq, seq })
	}
	_, err = j.dir.SelectUsers(ctx, p, d.Action.Filter, j.chunk, func(r *directory.Resource) error {
		if batch = append(batch, r); len(batch) == j.chunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if err := j.dropBeyond(ctx, job, seq, previous); err != nil {
		return err
	}
	return j.finishValidation(ctx, job, actionProfile, d, nil)
}

// planActionChunk plans a chunk of selected users from position seq and
// runs the user changes through the directory's dry run (groups are not
// dry-run: their membership rule is the policy check planUser made).
func (j *Jobs) planActionChunk(ctx context.Context, p policy.Principal, spec *ActionSpec, users []*directory.Resource, seq int) ([]store.JobRow, error) {
	planned := make([]Planned, len(users))
	for i, r := range users {
		var err error
		if planned[i], err = spec.planUser(p, r, seq+i+1); err != nil {
			return nil, err
		}
	}
	if err := j.dryRunAction(ctx, p, planned); err != nil {
		return nil, err
	}
	out := make([]store.JobRow, len(planned))
	for i := range planned {
		var err error
		if out[i], err = jobRow(seq+i, &planned[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dryRunAction checks the user PATCHes of a chunk as the commit will.
func (j *Jobs) dryRunAction(ctx context.Context, p policy.Principal, planned []Planned) error {
	var idx []int
	var ops []directory.Operation
	for i := range planned {
		if planned[i].Group != "" {
			continue
		}
		if op, ok := planned[i].Operation(j.dir.Registry().User); ok {
			idx, ops = append(idx, i), append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVAction, Window: len(ops), DryRun: true}
	return j.dir.Apply(ctx, p, opts, slices.Values(ops), func(res directory.BulkResult) bool {
		if res.Err != nil {
			code, msg := ErrorCode(res.Err)
			planned[idx[res.Index]].fail(Issue{Code: code, Rule: "directory", Message: msg})
		}
		return true
	})
}

// dropBeyond stores rows [from, to) again as skipped: an earlier walk of
// a restarted preview selected more users than this one.
func (j *Jobs) dropBeyond(ctx context.Context, job store.Job, from, to int) error {
	if to <= from {
		return nil
	}
	rows := make([]store.JobRow, 0, to-from)
	for seq := from; seq < to; seq++ {
		pr := Planned{Number: seq + 1, Action: PlanSkip, Issues: []Issue{{Code: CodeNotFound, Severity: SeverityWarning,
			Message: "The user no longer matched the filter when the preview was rebuilt."}}}
		r, err := jobRow(seq, &pr)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if err := j.st.InsertJobRows(ctx, job.TenantID, job.ID, j.owner, rows); err != nil {
		return fmt.Errorf("job %s: store rows: %w", job.ID, err)
	}
	return nil
}
