package csvbridge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// CodeUnknownReference: a reference column names a user that neither
// exists nor is created by the file.
const CodeUnknownReference = "unknown_reference"

// Link is a reference a row makes to another user by key (a Column with
// Ref): once every row of the file is written, the commit sets the
// attribute at Path to that user's id. References are set last, so a row
// may name a user that a row further down creates.
type Link struct {
	Column string   `json:"column"`
	Path   string   `json:"path"`
	Key    MatchKey `json:"key"`
	Value  string   `json:"value"`
	// Group is set on a membership link (Key "group"): the id of the
	// group the row's user is added to.
	Group  string `json:"group,omitempty"`
	target *Target
	// earlier restricts the reference to users that exist or that an
	// earlier row creates (Column.RefEarlier).
	earlier bool
}

// linkKey is a reference's key kind and normalised value.
type linkKey struct {
	kind  MatchKey
	value string
}

func (l Link) key() linkKey { return linkKey{l.Key, normKey(l.Key, l.Value)} }

// takeLinks moves a row's reference fields out of its record (they are
// not written with the row) and returns them as links.
func (m *Mapping) takeLinks(row *Row) []Link {
	var links []Link
	kept := row.Record.Fields[:0]
	for _, f := range row.Record.Fields {
		if f.Column < 0 {
			kept = append(kept, f)
			continue
		}
		rule := m.cols[f.Column].rule
		s, isText := f.Value.(string)
		if rule == nil || rule.Ref == "" || !isText {
			kept = append(kept, f)
			continue
		}
		links = append(links, Link{Column: f.Header, Path: f.Target.Path, Key: rule.Ref, Value: s, target: f.Target, earlier: rule.RefEarlier})
	}
	row.Record.Fields = kept
	return links
}

// resolveLinks finds the users links name, one UsersByKeys call per key
// kind, and returns their ids by key.
func resolveLinks(ctx context.Context, dir *directory.Service, p policy.Principal, links []Link) (map[linkKey]string, error) {
	byKind := map[MatchKey][]string{}
	for _, l := range links {
		if l.Key == linkGroup {
			continue
		}
		if !slices.Contains(byKind[l.Key], l.Value) {
			byKind[l.Key] = append(byKind[l.Key], l.Value)
		}
	}
	out := map[linkKey]string{}
	for kind, values := range byKind {
		found, err := dir.UsersByKeys(ctx, p, keyAttr(kind), values, directory.Lookup{})
		if err != nil {
			return nil, fmt.Errorf("resolve references by %s: %w", kind, err)
		}
		for _, res := range found {
			doc, err := res.Document()
			if err != nil {
				return nil, err
			}
			for _, v := range keyValues(kind, doc) {
				out[linkKey{kind, normKey(kind, v)}] = res.ID
			}
		}
	}
	return out, resolveByID(ctx, dir, p, links, out)
}

// resolveByID resolves the references no key found whose value is a
// user's id, as an export writes a reference (so an exported file imports
// again as unchanged).
func resolveByID(ctx context.Context, dir *directory.Service, p policy.Principal, links []Link, out map[linkKey]string) error {
	var ids []string
	for _, l := range links {
		if _, ok := out[l.key()]; !ok && l.Key != linkGroup && uuid.Validate(l.Value) == nil && !slices.Contains(ids, strings.ToLower(l.Value)) {
			ids = append(ids, strings.ToLower(l.Value))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := dir.UsersByKeys(ctx, p, "id", ids, directory.Lookup{})
	if err != nil {
		return fmt.Errorf("resolve references by id: %w", err)
	}
	for _, l := range links {
		for _, res := range found {
			if strings.EqualFold(res.ID, l.Value) {
				out[l.key()] = res.ID
			}
		}
	}
	return nil
}

// keyValues are the values of a user's document for a key kind.
func keyValues(kind MatchKey, doc schema.Doc) []string {
	switch kind {
	case MatchEmail:
		var out []string
		list, _ := doc["emails"].([]any)
		for _, el := range list {
			m, _ := el.(map[string]any)
			if v, ok := m["value"].(string); ok {
				out = append(out, v)
			}
		}
		return out
	case MatchExternalID:
		v, _ := doc["externalId"].(string)
		return []string{v}
	}
	v, _ := doc["userName"].(string)
	return []string{v}
}

// currentValue is the value a document holds at a simple attribute path
// (attr, attr.sub, urn:...:attr or urn:...:attr.sub).
func currentValue(doc schema.Doc, t *Target) any {
	var m map[string]any = doc
	if t.Attr.URN != "" {
		m, _ = doc[t.Attr.URN].(map[string]any)
	}
	v := m[t.Attr.Name]
	if t.Attr.Sub == "" {
		return v
	}
	sub, _ := v.(map[string]any)
	return sub[t.Attr.Sub]
}

// LinkRows sets the references of rows whose user is written (the second
// pass of a commit): each row's links are resolved now that every row of
// the file is written, then applied as one PATCH per row, without a
// version (setting a reference again changes nothing). A reference to a
// user that does not exist (its row failed, or it was deleted) fails the
// row; its user stays written without it.
func LinkRows(ctx context.Context, dir *directory.Service, p policy.Principal, rt *schema.ResourceType, rows []Planned) ([]Outcome, error) {
	var all []Link
	for i := range rows {
		all = append(all, rows[i].Links...)
	}
	ids, err := resolveLinks(ctx, dir, p, all)
	if err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, len(rows))
	var idx []int
	var ops []directory.Operation
	for i := range rows {
		outcomes[i] = Outcome{Status: StatusSucceeded, ResourceID: rows[i].ResourceID}
		rowOps, missing := linkOps(rt, dir.Registry().Group, &rows[i], ids)
		if missing != nil {
			outcomes[i] = Outcome{Status: StatusFailed, ResourceID: rows[i].ResourceID, ErrorCode: CodeUnknownReference,
				Error: fmt.Sprintf("%s: no user has the %s %s (its row failed, or it was deleted); the user was written without it.",
					missing.Column, missing.Key, quoteValue(missing.Value))}
			continue
		}
		for _, op := range rowOps {
			idx, ops = append(idx, i), append(ops, op)
		}
	}
	if len(ops) == 0 {
		return outcomes, nil
	}
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: len(ops)}
	err = dir.Apply(ctx, p, opts, slices.Values(ops), func(res directory.BulkResult) bool {
		i := idx[res.Index]
		if res.Err != nil && outcomes[i].Status == StatusSucceeded {
			code, msg := ErrorCode(res.Err)
			outcomes[i] = Outcome{Status: StatusFailed, ResourceID: rows[i].ResourceID, ErrorCode: code, Error: msg}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("set references: %w", err)
	}
	return outcomes, nil
}

// linkOps are the operations that set a row's links: one PATCH of the
// user for its references, one PATCH per group it joins; or the first
// reference whose user is missing.
func linkOps(rt, groupType *schema.ResourceType, r *Planned, ids map[linkKey]string) ([]directory.Operation, *Link) {
	var refs []any
	var out []directory.Operation
	for i, l := range r.Links {
		if l.Key == linkGroup {
			out = append(out, groupOp(groupType, l, r.ResourceID))
			continue
		}
		id, ok := ids[l.key()]
		if !ok {
			return nil, &r.Links[i]
		}
		refs = append(refs, patchOp("replace", l.Path, id))
	}
	if len(refs) > 0 {
		data := map[string]any{"schemas": []any{directory.PatchOpURN}, "Operations": refs}
		out = append([]directory.Operation{{Kind: directory.OpPatch, Type: rt, ID: r.ResourceID, Data: data}}, out...)
	}
	return out, nil
}

// pendingRef is a reference to a userName no user has and no earlier row
// of the file creates: a later row must create it.
type pendingRef struct {
	row  int
	link Link
}

// RowIssue is an issue found for an earlier row once the whole file is
// read.
type RowIssue struct {
	Row   int
	Issue Issue
}

// linkable reports whether a row with action a keeps its references.
func linkable(a Action) bool { return a == PlanCreate || a == PlanUpdate || a == PlanUnchanged }

// planLinks resolves the batch's references against the store and the
// file: a reference to a user that holds it already is dropped, the
// others are kept on the row (an unchanged row becomes an update) and
// set at commit; a userName nobody has yet waits for a later row.
func (pl *Planner) planLinks(ctx context.Context, out []Planned, links [][]Link, matches []match) error {
	var all []Link
	for i := range out {
		if linkable(out[i].Action) {
			all = append(all, links[i]...)
		}
	}
	if len(all) > 0 {
		ids, err := resolveLinks(ctx, pl.dir, pl.p, all)
		if err != nil {
			return err
		}
		for i := range out {
			if linkable(out[i].Action) {
				for _, l := range links[i] {
					pl.planLink(&out[i], l, ids, matches[i].user)
				}
			}
		}
	}
	for key := range pl.pending {
		if _, ok := pl.claimed[key]; ok {
			delete(pl.pending, key)
		}
	}
	return nil
}

func (pl *Planner) planLink(r *Planned, l Link, ids map[linkKey]string, u *stored) {
	var old any
	if u != nil {
		old = currentValue(u.doc, l.target)
	}
	id, exists := ids[l.key()]
	switch {
	case exists && old == id:
		return
	case !exists && l.earlier && !pl.claimedBefore(l.Value, r.Number):
		r.fail(Issue{Code: CodeUnknownReference, Column: l.Column, Rule: "reference",
			Message: fmt.Sprintf("No user has the %s %s, and no earlier row of the file creates one.", l.Key, quoteValue(l.Value)),
			Hint:    "Name a user that exists, or move the row that creates it above this one."})
		return
	case !exists && l.Key != MatchUserName:
		r.fail(Issue{Code: CodeUnknownReference, Column: l.Column, Rule: "reference",
			Message: fmt.Sprintf("No user has the %s %s.", l.Key, quoteValue(l.Value)),
			Hint:    "Name a user that exists, or one that this file creates by userName."})
		return
	case !exists:
		key := pl.nameKey(l.Value)
		if _, claimed := pl.claimed[key]; !claimed {
			pl.pending[key] = append(pl.pending[key], pendingRef{row: r.Number, link: l})
		}
	}
	r.Links = append(r.Links, l)
	if r.Action != PlanCreate {
		r.Diff = append(r.Diff, Change{Path: l.Path, Old: old, New: l.Value})
		r.Action = PlanUpdate
	}
}

// Finish ends the file: references to a userName that no user has and no
// row of the file creates fail their rows. The caller stores those rows
// again with these issues.
func (pl *Planner) Finish() []RowIssue {
	var out []RowIssue
	for _, refs := range pl.pending {
		for _, pr := range refs {
			out = append(out, RowIssue{Row: pr.row, Issue: Issue{Code: CodeUnknownReference, Severity: SeverityError, Row: pr.row,
				Column: pr.link.Column, Rule: "reference",
				Message: fmt.Sprintf("No user has the userName %s, and no row of the file creates one.", quoteValue(pr.link.Value)),
				Hint:    "Name a user that exists, or add a row that creates it."}})
		}
	}
	slices.SortFunc(out, func(a, b RowIssue) int { return a.Row - b.Row })
	pl.pending = map[[2]uint64][]pendingRef{}
	return out
}

// claimedBefore reports whether a row above row creates (or renames a
// user to) the userName.
func (pl *Planner) claimedBefore(userName string, row int) bool {
	first, ok := pl.claimed[pl.nameKey(userName)]
	return ok && int(first) < row
}
