package csvbridge

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// groupInfo is a group a groups column names.
type groupInfo struct {
	id      string
	display string
	// leaf is true when no member of the group is a group: the lowest
	// level of a hierarchy built by nesting groups (seed 002's team).
	leaf bool
}

// groupChunk is how many display names one group lookup asks for.
const groupChunk = 20

// planGroups resolves the group names of the batch's rows (display names,
// matched exactly) and turns each membership the user lacks into a link
// set after the row is written: the user is added to the group, never
// removed from others. A name no group has fails the row; so does a group
// that contains groups when the row asks for a lowest-level one.
func (pl *Planner) planGroups(ctx context.Context, rows []Row, out []Planned, matches []match) error {
	var names []string
	for i := range rows {
		if linkable(out[i].Action) {
			names = append(names, rows[i].Record.Groups...)
		}
	}
	if err := pl.loadGroups(ctx, names); err != nil {
		return err
	}
	for i := range rows {
		if linkable(out[i].Action) && len(rows[i].Record.Groups) > 0 {
			pl.planRowGroups(&rows[i], &out[i], matches[i].user)
		}
	}
	return nil
}

func (pl *Planner) planRowGroups(row *Row, r *Planned, u *stored) {
	col := row.Record.GroupsColumn
	var links []Link
	var added []any
	for _, name := range row.Record.Groups {
		g := pl.groups[name]
		switch {
		case g == nil:
			r.fail(Issue{Code: CodeUnknownGroup, Column: col, Rule: "group exists",
				Message: fmt.Sprintf("No group is named %s; groups must exist before the import (names match exactly).", quoteValue(name)),
				Hint:    "Create the group first, check its spelling and case, or write none."})
			return
		case row.Record.GroupsLeaf && !g.leaf:
			r.fail(Issue{Code: CodeNotLeafGroup, Column: col, Rule: "lowest level",
				Message: fmt.Sprintf("%s contains other units; an agent's unit must be a team, the lowest level of the hierarchy.", quoteValue(name)),
				Hint:    "Name the team inside it."})
			return
		case memberOf(u, g.id):
			continue
		}
		links = append(links, Link{Column: col, Path: "members", Key: linkGroup, Value: name, Group: g.id})
		added = append(added, name)
	}
	if len(links) == 0 {
		return
	}
	if err := policy.Decide(pl.p, policy.GroupUpdate, policy.Effect{}); err != nil {
		r.fail(Issue{Code: CodeForbidden, Column: col, Rule: "tier", Message: capitalize(err.Error()) + ".",
			Hint: "Adding users to groups is a group change; ask someone with a higher support tier, or leave the column blank."})
		return
	}
	r.Links = append(r.Links, links...)
	if r.Action == PlanCreate {
		return
	}
	r.Diff = append(r.Diff, Change{Path: "groups", New: added})
	r.Action = PlanUpdate
}

// memberOf reports whether the stored user is directly in the group.
func memberOf(u *stored, groupID string) bool {
	if u == nil {
		return false
	}
	for _, el := range asList(u.doc["groups"]) {
		if m, ok := el.(map[string]any); ok && m["value"] == groupID {
			return true
		}
	}
	return false
}

// loadGroups looks up the names the planner has not seen yet, a chunk of
// names per filtered group list.
func (pl *Planner) loadGroups(ctx context.Context, names []string) error {
	var todo []string
	for _, n := range names {
		if _, seen := pl.groups[n]; !seen {
			pl.groups[n] = nil
			todo = append(todo, n)
		}
	}
	for start := 0; start < len(todo); start += groupChunk {
		chunk := todo[start:min(start+groupChunk, len(todo))]
		terms := make([]string, len(chunk))
		for i, n := range chunk {
			terms[i] = "displayName eq " + quoteFilter(n) // JSON escapes, as SCIM filters read them
		}
		list, err := pl.dir.ListGroups(ctx, pl.p, directory.ListQuery{Filter: strings.Join(terms, " or "), Count: 10 * groupChunk}, true)
		if err != nil {
			return fmt.Errorf("look up groups: %w", err)
		}
		for _, res := range list.Resources {
			doc, err := res.Document()
			if err != nil {
				return err
			}
			name, _ := doc["displayName"].(string)
			if _, asked := pl.groups[name]; asked {
				pl.groups[name] = &groupInfo{id: res.ID, display: name, leaf: !hasGroupMember(doc)}
			}
		}
	}
	return nil
}

func hasGroupMember(doc map[string]any) bool {
	for _, el := range asList(doc["members"]) {
		if m, ok := el.(map[string]any); ok && m["type"] == "Group" {
			return true
		}
	}
	return false
}

// linkGroup is the Key of a link that adds the row's user to a group.
const linkGroup MatchKey = "group"

// groupOp adds the user to the link's group.
func groupOp(groupType *schema.ResourceType, l Link, userID string) directory.Operation {
	member := map[string]any{"value": userID}
	data := map[string]any{"schemas": []any{directory.PatchOpURN}, "Operations": []any{patchOp("add", "members", []any{member})}}
	return directory.Operation{Kind: directory.OpPatch, Type: groupType, ID: l.Group, Data: data}
}
