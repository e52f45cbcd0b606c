package csvbridge

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// CodeTaken: a column unique in the tenant (Column.UniqueInTenant) holds a
// value another user already has.
const CodeTaken = "taken"

// planTaken fails the rows that would give a user a value of a column
// unique in the tenant (contact-center-agents' agent id and pbx id) that
// another user already holds: one look-up per such column and batch.
// Within the file, Unique already keeps the values apart.
func (pl *Planner) planTaken(ctx context.Context, rows []Row, out []Planned) error {
	for ci := range pl.m.cols {
		bc := &pl.m.cols[ci]
		if bc.ignore || bc.rule == nil || !bc.rule.UniqueInTenant || len(bc.targets) != 1 {
			continue
		}
		if err := pl.planTakenColumn(ctx, ci, rows, out); err != nil {
			return err
		}
	}
	return nil
}

// takenRow is a row that writes a value of the column.
type takenRow struct {
	i     int
	value string
}

func (pl *Planner) planTakenColumn(ctx context.Context, ci int, rows []Row, out []Planned) error {
	bc := &pl.m.cols[ci]
	t := &bc.targets[0]
	norm := func(s string) string {
		if t.Attr.CaseExact {
			return s
		}
		return schema.Fold(s)
	}
	var todo []takenRow
	var values []string
	for i := range rows {
		if a := out[i].Action; a != PlanCreate && a != PlanUpdate {
			continue
		}
		for _, f := range rows[i].Record.Fields {
			if s, ok := f.Value.(string); ok && f.Column == ci && s != "" {
				todo = append(todo, takenRow{i, s})
				values = append(values, s)
			}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	owners, err := pl.holders(ctx, t, values, norm)
	if err != nil {
		return err
	}
	for _, tr := range todo {
		u, ok := owners[norm(tr.value)]
		if !ok || u.ID == out[tr.i].ResourceID {
			continue
		}
		out[tr.i].fail(Issue{Code: CodeTaken, Column: bc.header, Rule: "unique in tenant",
			Message: fmt.Sprintf("%s %s is already used by user %s.", bc.header, quoteValue(tr.value), quoteValue(u.UserName)),
			Hint:    "Each user needs a value no other user has; choose another one."})
	}
	return nil
}

// holder is the user who holds a value.
type holder struct{ ID, UserName string }

// holders finds the users holding any of values at the target: a look-up
// by the attribute (for a value path such as phoneNumbers[type eq "pbx"]
// .value, every phone number's value), then the target read from each user
// as an export reads it, so only the element the path selects counts.
func (pl *Planner) holders(ctx context.Context, t *Target, values []string, norm func(string) string) (map[string]holder, error) {
	attr := t.Attr
	found, err := pl.dir.UsersByKeys(ctx, pl.p, attr.String(), values, directory.Lookup{})
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", t.Path, err)
	}
	col := exportColumn{targets: []Target{*t}}
	out := map[string]holder{}
	for _, res := range found {
		doc, err := res.Document()
		if err != nil {
			return nil, err
		}
		name, _ := doc["userName"].(string)
		if v := col.rawCell(res, doc); v != "" {
			out[norm(v)] = holder{ID: res.ID, UserName: name}
		}
	}
	return out, nil
}
