package csvbridge

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// PlanOptions tune a Planner; the zero value is what an import uses.
type PlanOptions struct {
	// SkipDryRun leaves out the directory's dry run: the plan then lacks
	// the policy, validation and uniqueness checks that only the directory
	// makes (a commit still makes them). Benchmarks use it to tell the
	// planner's own cost from the dry run's.
	SkipDryRun bool
}

// Planner turns mapped rows into Planned rows, batch by batch, for one
// file and one principal. State that crosses batches lives in it: the
// userNames the file's earlier rows create or rename users to (so a later
// row cannot take them again) and those they free (renamed or deleted
// users), kept as 128-bit hashes. A Planner is not safe for concurrent
// use; feed it the file's batches in order.
type Planner struct {
	dir      *directory.Service
	p        policy.Principal
	m        *Mapping
	rt       *schema.ResourceType
	opts     PlanOptions
	seed     [2]maphash.Seed
	claimed  map[[2]uint64]int32 // userName -> row that creates or renames to it
	released map[[2]uint64]bool  // userNames earlier batches free
	pending  map[[2]uint64][]pendingRef
	groups   map[string]*groupInfo // display name -> group (nil: none has it)
	// newRoles are the roles rows name that the tenant's catalogue lacks
	// (columns with AddToList), in the order first named.
	newRoles []string
	newSeen  map[string]bool
	// free holds the batch's userNames (normalised) its look-up found no
	// user holding, vouched for to the dry run.
	free map[string]bool
}

// NewPlanner returns a Planner for rows of the mapping, planned for p.
func NewPlanner(dir *directory.Service, p policy.Principal, m *Mapping) *Planner {
	return &Planner{dir: dir, p: p, m: m, rt: m.rt, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		claimed: map[[2]uint64]int32{}, released: map[[2]uint64]bool{}, pending: map[[2]uint64][]pendingRef{},
		groups: map[string]*groupInfo{}, newSeen: map[string]bool{}}
}

// SetOptions replaces the planner's options.
func (pl *Planner) SetOptions(o PlanOptions) { pl.opts = o }

// Plan plans a batch of rows given in file order (one Planned per row, in
// the same order). The error is for the batch as a whole: a lookup failed,
// ctx ended, or p may not import at all (csv.import).
func (pl *Planner) Plan(ctx context.Context, rows []Row) ([]Planned, error) {
	out := make([]Planned, len(rows))
	links := make([][]Link, len(rows))
	for i := range rows {
		out[i] = Planned{Number: rows[i].Number, Cells: rows[i].Cells, Issues: slices.Clone(rows[i].Issues)}
		if rows[i].OK() {
			links[i] = pl.m.takeLinks(&rows[i])
			pl.addOptions(&rows[i])
			pl.collectRoles(&rows[i])
		}
	}
	matches, err := pl.lookup(ctx, rows)
	if err != nil {
		return nil, err
	}
	var renames []bool
	for i := range rows {
		renames = append(renames, pl.decide(&rows[i], &out[i], matches[i]))
	}
	if err := pl.planGroups(ctx, rows, out, matches); err != nil {
		return nil, err
	}
	if err := pl.planTaken(ctx, rows, out); err != nil {
		return nil, err
	}
	claims := pl.claim(out, renames)
	if !pl.opts.SkipDryRun {
		if err := pl.dryRun(ctx, rows, out, claims); err != nil {
			return nil, err
		}
	}
	pl.settle(out, matches, claims)
	if err := pl.planLinks(ctx, out, links, matches); err != nil {
		return nil, err
	}
	return out, nil
}

// decide sets the row's action from its request and the user it matched,
// and reports whether it renames that user.
func (pl *Planner) decide(row *Row, r *Planned, mt match) bool {
	switch {
	case !row.OK():
		r.Action = PlanError
		return false
	case mt.issue != nil:
		r.fail(*mt.issue)
		return false
	}
	u := mt.user
	if u != nil {
		r.ResourceID, r.Version = u.res.ID, u.res.ETag()
		r.UserName, _ = u.doc["userName"].(string)
	}
	switch {
	case row.Record.Action == ActionUpsert && u != nil && pl.m.Profile.Mode == ModeInsertOnly:
		pl.duplicate(row, r)
		return false
	}
	switch row.Record.Action {
	case ActionDelete:
		pl.decideDelete(row, r, u)
	case ActionDeactivate:
		pl.decideDeactivate(row, r, u)
	default:
		if u == nil {
			pl.decideCreate(row, r)
			return false
		}
		return pl.decideUpdate(row, r, u)
	}
	return false
}

func (pl *Planner) decideCreate(row *Row, r *Planned) {
	if len(row.Record.Match) > 0 && row.Record.Match[0].Key == MatchID {
		r.fail(Issue{Code: CodeNotFound, Column: pl.keyColumn(row, MatchID), Rule: "match",
			Message: fmt.Sprintf("No user has the id %s.", quoteValue(row.Record.Match[0].Value)),
			Hint:    "Leave the id blank to create a user; ids are given by the directory."})
		return
	}
	r.Create = row.Record.Document()
	r.UserName, _ = r.Create["userName"].(string)
	r.Action = PlanCreate
	r.Notify = row.Record.Notify
	for _, is := range row.Record.CreateIssues {
		r.fail(is)
	}
}

// duplicate marks an insert-only row whose user exists: it writes
// nothing.
func (pl *Planner) duplicate(row *Row, r *Planned) {
	mv := row.Record.Match[0]
	r.Action = PlanDuplicate
	r.Issues = append(r.Issues, Issue{Code: CodeDuplicate, Severity: SeverityWarning, Row: r.Number, Column: pl.keyColumn(row, mv.Key), Rule: "insert only",
		Message: fmt.Sprintf("A user with the %s %s already exists; this profile only inserts new users, so the row was not applied.", pl.keyColumn(row, mv.Key), quoteValue(mv.Value))})
}

// addOptions adds the upload's options to the row, as fields of their
// paths.
func (pl *Planner) addOptions(row *Row) {
	for i := range pl.m.options {
		o := &pl.m.options[i]
		v := pl.m.env.Options[o.opt.Name]
		if v == "" {
			continue
		}
		if o.opt.List != "" && pl.m.env.Settings != nil {
			v, _ = pl.m.env.inList(o.opt.List, v)
		}
		row.Record.Fields = append(row.Record.Fields, Field{Column: -1, Header: o.opt.Name, Target: &o.target, Value: v})
	}
}

// collectRoles remembers the roles a row names that the catalogue lacks
// (columns that add to it).
func (pl *Planner) collectRoles(row *Row) {
	if pl.m.env.Settings == nil {
		return
	}
	for _, f := range row.Record.Fields {
		if f.Column < 0 || f.Clear {
			continue
		}
		rule := pl.m.cols[f.Column].rule
		if rule == nil || rule.List != ListRoles || !rule.AddToList {
			continue
		}
		for _, v := range asList(f.Value) {
			s, _ := v.(string)
			if _, known := pl.m.env.inList(ListRoles, s); known || pl.newSeen[schema.Fold(s)] {
				continue
			}
			pl.newSeen[schema.Fold(s)] = true
			pl.newRoles = append(pl.newRoles, s)
		}
	}
}

// NewRoles returns the roles the file's rows name that the tenant's
// catalogue lacks (added at commit), in the order first named.
func (pl *Planner) NewRoles() []string { return slices.Clone(pl.newRoles) }

func (pl *Planner) decideUpdate(row *Row, r *Planned, u *stored) bool {
	r.Diff, r.Patch = diff(row.Record.Fields, u.doc)
	if len(r.Patch) == 0 {
		pl.unchanged(r, u)
		return false
	}
	r.Action = PlanUpdate
	renamed := false
	for _, c := range r.Diff {
		if c.Path == "userName" {
			r.UserName, _ = c.New.(string)
			renamed = true
		}
	}
	return renamed
}

func (pl *Planner) decideDeactivate(row *Row, r *Planned, u *stored) {
	switch {
	case u == nil:
		r.fail(Issue{Code: CodeNotFound, Column: pl.keyColumn(row, row.Record.Match[0].Key), Rule: "match",
			Message: fmt.Sprintf("No user has the %s %s, so none can be deactivated.", row.Record.Match[0].Key, quoteValue(row.Record.Match[0].Value)),
			Hint:    "Check the value, or remove the row."})
	case u.doc["active"] == false:
		pl.unchanged(r, u)
	default:
		r.Action = PlanDeactivate
		r.Diff = []Change{{Path: "active", Old: u.doc["active"], New: false}}
		r.Patch = []map[string]any{patchOp("replace", "active", false)}
	}
}

func (pl *Planner) decideDelete(row *Row, r *Planned, u *stored) {
	if u != nil {
		r.Action = PlanDelete
		return
	}
	r.Action = PlanSkip
	r.Issues = append(r.Issues, Issue{Code: CodeNotFound, Severity: SeverityWarning, Row: r.Number, Rule: "match",
		Column:  pl.keyColumn(row, row.Record.Match[0].Key),
		Message: fmt.Sprintf("No user has the %s %s; there is nothing to delete.", row.Record.Match[0].Key, quoteValue(row.Record.Match[0].Value))})
}

// unchanged marks a row that writes nothing, unless the user is above
// the principal's tier: nobody imports a user above their own tier, even
// one the file would leave as it is.
func (pl *Planner) unchanged(r *Planned, u *stored) {
	r.Action = PlanUnchanged
	ext, _ := u.doc[schema.SupportURN].(map[string]any)
	name, _ := ext["tier"].(string)
	tier, err := policy.ParseTier(name)
	if err != nil {
		return
	}
	eff := policy.Effect{TargetTierBefore: tier, TargetTierAfter: tier}
	if err := policy.Decide(pl.p, policy.UserUpdate, eff); err != nil {
		r.fail(Issue{Code: CodeForbidden, Rule: "tier", Message: capitalize(err.Error()) + ".",
			Hint: "Ask someone with a higher support tier to import this user."})
	}
}

// keyColumn names the column that gave the row's match key k.
func (pl *Planner) keyColumn(row *Row, k MatchKey) string {
	for _, f := range row.Record.Fields {
		if mk, ok := f.Target.matchKey(); ok && mk == k {
			return f.Header
		}
	}
	return string(k)
}

// userNameColumn names the column that writes userName, if any.
func userNameColumn(row *Row) string { return columnWriting(row, "userName") }

// columnWriting names the column that writes the attribute path, if any.
func columnWriting(row *Row, path string) string {
	for _, f := range row.Record.Fields {
		if f.Target.Path == path {
			return f.Header
		}
	}
	return ""
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// nameKey is the 128-bit hash of a userName as the directory compares
// them (Unicode simple case folding).
func (pl *Planner) nameKey(userName string) [2]uint64 {
	f := schema.Fold(userName)
	return [2]uint64{maphash.String(pl.seed[0], f), maphash.String(pl.seed[1], f)}
}

// claim checks the userNames the batch's creates and renames take against
// those the file's earlier rows took (this batch's and earlier ones'),
// failing a row that takes one again, and records the others. It returns
// each row's claimed key (for rows that claimed one).
func (pl *Planner) claim(out []Planned, renames []bool) map[int][2]uint64 {
	claims := map[int][2]uint64{}
	for i := range out {
		r := &out[i]
		if r.UserName == "" || (r.Action != PlanCreate && !(r.Action == PlanUpdate && renames[i])) {
			continue
		}
		key := pl.nameKey(r.UserName)
		if first, taken := pl.claimed[key]; taken {
			r.fail(Issue{Code: CodeDuplicateInFile, Rule: "userName unique",
				Message: fmt.Sprintf("Row %d already gives a user the userName %s.", first, quoteValue(r.UserName)),
				Hint:    "userNames are unique (compared without case); change one of the two rows."})
			continue
		}
		pl.claimed[key] = int32(r.Number)
		claims[i] = key
	}
	return claims
}

// settle updates the state that crosses batches once the batch's rows
// are final: failed rows give back their claims; renames and deletes
// free the userNames they leave.
func (pl *Planner) settle(out []Planned, matches []match, claims map[int][2]uint64) {
	for i := range out {
		r := &out[i]
		if key, ok := claims[i]; ok && r.Action == PlanError && pl.claimed[key] == int32(r.Number) {
			delete(pl.claimed, key)
		}
		u := matches[i].user
		if u == nil || (r.Action != PlanDelete && r.Action != PlanUpdate) {
			continue
		}
		if old, _ := u.doc["userName"].(string); old != "" && (r.Action == PlanDelete || schema.Fold(old) != schema.Fold(r.UserName)) {
			pl.released[pl.nameKey(old)] = true
		}
	}
}

// dryRun runs the batch's writing rows through the directory with
// DryRun set, under the same source and rule as a commit, so the preview
// makes the same validation, policy (tier) and userName-uniqueness checks
// (against the store and within the batch) as the commit; a row the
// directory refuses becomes an error row. A uniqueness refusal of a name
// an earlier batch's row frees (a rename or a delete the store has not
// seen yet, since nothing is written) is not an error: the commit frees
// it first.
func (pl *Planner) dryRun(ctx context.Context, rows []Row, out []Planned, claims map[int][2]uint64) error {
	var idx []int
	var ops []directory.Operation
	for i := range out {
		if op, ok := out[i].Operation(pl.rt); ok {
			idx, ops = append(idx, i), append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	free := pl.free
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: len(ops), DryRun: true,
		FreeUserName: func(norm string) bool { return free[norm] }}
	return pl.dir.Apply(ctx, pl.p, opts, slices.Values(ops), func(res directory.BulkResult) bool {
		if res.Err == nil {
			return true
		}
		i := idx[res.Index]
		code, msg := ErrorCode(res.Err)
		if _, claimed := claims[i]; claimed && code == CodeConflict && pl.released[pl.nameKey(out[i].UserName)] {
			return true
		}
		is := Issue{Code: code, Rule: "directory", Message: msg}
		switch code {
		case CodeConflict:
			is.Column, is.Rule = userNameColumn(&rows[i]), "userName unique"
		case CodeForbidden:
			is.Column, is.Rule = columnWriting(&rows[i], schema.SupportURN+":tier"), "tier"
		}
		out[i].fail(is)
		return true
	})
}
