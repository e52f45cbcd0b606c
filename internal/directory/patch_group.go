package directory

import (
	"context"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// PatchGroup applies ops to a group in one transaction. Membership changes
// that name members by id (add/replace/remove members, remove
// members[value eq "id"], Entra's remove with a value list) become set
// operations on member rows: the member list is never read, so changing
// one member of a 100,000-member group costs the same as of a small one.
// Any other operation on members (filters on display or type, writes to a
// member's sub-attributes) reads the list and writes the difference. The
// returned group has no members; read it with GetGroup if needed.
func (s *Service) PatchGroup(ctx context.Context, p policy.Principal, id string, ops []PatchOp, pre Precondition) (*Resource, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.Group, id)
	}
	if err := allow(p, policy.GroupUpdate, policy.Effect{}); err != nil {
		return nil, err // before any parsing or reading: the cheap check first
	}
	ops = memberFriendly(ops)
	mp, rest, fast, err := s.memberPatch(ops)
	if err != nil {
		return nil, err
	}
	if err := s.judgeMemberPatch(ctx, p, id, mp, fast); err != nil {
		return nil, err
	}
	var g store.Group
	if fast {
		actx, ev := audited(ctx, p, "patch")
		g, err = s.store.ModifyGroup(actx, p.Tenant, id, mp, func(g *store.Group, membersChange bool) error {
			return s.patchGroupDoc(g, rest, pre, membersChange, ev)
		})
	} else {
		g, err = s.patchGroupGeneral(ctx, p, id, ops, pre)
	}
	if err != nil {
		return nil, s.translate(ctx, s.reg.Group, id, err)
	}
	return s.groupResource(g)
}

// patchGroupDoc applies the non-member operations to the group's document.
// When neither they nor the member changes change anything it ends with
// store.ErrUnchanged: RFC 7644 §3.5.2 lets no new version, lastModified or
// audit event come of it (as for users).
func (s *Service) patchGroupDoc(g *store.Group, ops []PatchOp, pre Precondition, membersChange bool, ev *store.AuditEvent) error {
	if err := pre.check(g.Version); err != nil {
		return err
	}
	ev.Attributes = []string{}
	if len(ops) > 0 {
		old, err := decodeDoc(g.Doc)
		if err != nil {
			return err
		}
		doc, err := patchedDoc(s.reg.Group, g.ID, g.Doc, ops)
		if err != nil {
			return err
		}
		ev.Attributes = changedAttributes(s.reg.Group, old, doc)
		if err := s.setGroupDoc(g, doc); err != nil {
			return err
		}
	}
	if membersChange {
		ev.Attributes = append(ev.Attributes, "members")
	}
	if len(ev.Attributes) == 0 {
		return store.ErrUnchanged
	}
	g.LastModified = s.clock()
	return nil
}

// patchGroupGeneral is the general path: members join the document,
// every operation applies to it, and the new member list is written as a
// difference. The change is judged outside its transaction
// (judgedGroupChange).
func (s *Service) patchGroupGeneral(ctx context.Context, p policy.Principal, id string, ops []PatchOp, pre Precondition) (store.Group, error) {
	var out store.Group
	err := s.judgedGroupChange(ctx, p, id, func(cur store.Group) ([]string, error) {
		pg, err := s.patchedGroup(&cur, ops)
		if err != nil {
			return nil, err
		}
		return diffIDs(pg.diff), nil
	}, func(judged memberSet) error {
		actx, ev := audited(ctx, p, "patch")
		g, err := s.store.UpdateGroup(actx, p.Tenant, id, func(g *store.Group) error {
			if err := pre.check(g.Version); err != nil {
				return err
			}
			pg, err := s.patchedGroup(g, ops)
			if err != nil {
				return err
			}
			if !judged.covers(diffIDs(pg.diff)) {
				return errMembersMoved
			}
			ev.Attributes = groupChanges(s.reg.Group, pg.old, pg.doc, pg.diff)
			if len(ev.Attributes) == 0 {
				return store.ErrUnchanged // same content, as for users
			}
			g.Members = pg.members
			g.LastModified = s.clock()
			return s.setGroupDoc(g, pg.doc)
		})
		g.Members = nil
		out = g
		return err
	})
	return out, err
}

// patchedGroupDoc is a group with ops applied: its old and new documents
// (without members), the new member list and its difference from g's.
type patchedGroupDoc struct {
	old, doc map[string]any
	members  []store.Member
	diff     store.MemberDiff
}

func (s *Service) patchedGroup(g *store.Group, ops []PatchOp) (patchedGroupDoc, error) {
	var pg patchedGroupDoc
	raw, err := docWithMembers(g)
	if err != nil {
		return pg, err
	}
	if pg.doc, err = patchedDoc(s.reg.Group, g.ID, raw, ops); err != nil {
		return pg, err
	}
	if pg.members, err = membersOf(pg.doc); err != nil {
		return pg, err
	}
	if pg.old, err = decodeDoc(g.Doc); err != nil {
		return pg, err
	}
	delete(pg.doc, "members")
	pg.diff = store.DiffMembers(g.Members, pg.members)
	return pg, nil
}

func (s *Service) setGroupDoc(g *store.Group, doc map[string]any) error {
	raw, err := jsonMarshal(doc)
	if err != nil {
		return err
	}
	g.Doc = raw
	g.DisplayName, _ = doc["displayName"].(string)
	g.ExternalID, _ = doc["externalId"].(string)
	return nil
}

func docWithMembers(g *store.Group) ([]byte, error) {
	doc, err := groupDoc(g)
	if err != nil {
		return nil, err
	}
	return jsonMarshal(doc)
}

// memberPatch splits ops into row-level member changes and the rest. fast
// is false when some member operation needs the member list. It is linear
// in the number of members named: the last operation on an id wins.
func (s *Service) memberPatch(ops []PatchOp) (store.MemberPatch, []PatchOp, bool, error) {
	b := newMemberPatchBuilder()
	var rest []PatchOp
	for _, op := range ops {
		if !isMembersPath(op.Path) {
			rest = append(rest, op)
			continue
		}
		ok, err := s.addMemberOp(b, op)
		if err != nil || !ok {
			return store.MemberPatch{}, nil, false, err
		}
	}
	return b.patch(), rest, true, nil
}

func isMembersPath(path string) bool {
	p := strings.ToLower(strings.TrimSpace(path))
	p = strings.TrimPrefix(p, "urn:ietf:params:scim:schemas:core:2.0:group:")
	return p == "members" || strings.HasPrefix(p, "members[") || strings.HasPrefix(p, "members.")
}

// addMemberOp folds one members operation into b, keeping the order of
// operations (an id removed after being added ends up removed). An op
// other than add, replace or remove is invalidSyntax, as on users.
func (s *Service) addMemberOp(b *memberPatchBuilder, op PatchOp) (bool, error) {
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return false, patchError(scimerrors.ScimTypeInvalidSyntax, "Operation %q is not one of add, replace, remove.", truncate(op.Op, 40))
	}
	path := strings.ToLower(strings.TrimSpace(op.Path))
	if strings.HasSuffix(path, "]") && kind == "remove" {
		id, ok := s.memberFilterID(op.Path)
		if ok {
			b.remove(id)
		}
		return ok, nil
	}
	if !strings.HasSuffix(path, "members") {
		return false, nil
	}
	members, err := memberValues(op.Value)
	if err != nil {
		return false, err
	}
	switch {
	case kind == "remove" && op.Value == nil, kind == "replace":
		b.removeAll()
		if kind == "replace" {
			b.add(members...)
		}
	case kind == "remove":
		for _, m := range members {
			b.remove(m.ID)
		}
	default:
		b.add(members...)
	}
	return true, nil
}

// memberPatchBuilder collects member operations into a store.MemberPatch
// in linear time: per id the last operation wins, in first-seen order.
type memberPatchBuilder struct {
	removeAllFirst bool
	order          []string
	added          map[string]store.Member // ids whose last operation adds them
	removed        map[string]bool         // ids whose last operation removes them
}

func newMemberPatchBuilder() *memberPatchBuilder {
	return &memberPatchBuilder{added: map[string]store.Member{}, removed: map[string]bool{}}
}

func (b *memberPatchBuilder) note(id string) {
	if _, ok := b.added[id]; !ok && !b.removed[id] {
		b.order = append(b.order, id)
	}
}

func (b *memberPatchBuilder) add(ms ...store.Member) {
	for _, m := range ms {
		b.note(m.ID)
		delete(b.removed, m.ID)
		b.added[m.ID] = m
	}
}

func (b *memberPatchBuilder) remove(id string) {
	b.note(id)
	delete(b.added, id)
	b.removed[id] = true
}

func (b *memberPatchBuilder) removeAll() {
	*b = memberPatchBuilder{removeAllFirst: true, added: map[string]store.Member{}, removed: map[string]bool{}}
}

// patch returns the collected changes. After a remove-all, removals of
// individual ids are implied and not listed.
func (b *memberPatchBuilder) patch() store.MemberPatch {
	mp := store.MemberPatch{RemoveAll: b.removeAllFirst}
	for _, id := range b.order {
		if m, ok := b.added[id]; ok {
			mp.Add = append(mp.Add, m)
		} else if b.removed[id] && !mp.RemoveAll {
			mp.Remove = append(mp.Remove, id)
		}
	}
	return mp
}

// memberFilterID recognises members[value eq "id"].
func (s *Service) memberFilterID(path string) (string, bool) {
	attr, filt, sub, err := splitPath(strings.TrimSpace(path))
	if err != nil || sub != "" {
		return "", false
	}
	e, err := filter.Parse(s.reg.Group, attr+"["+filt+"]")
	if err != nil {
		return "", false
	}
	vp, ok := e.(*filter.ValuePath)
	if !ok {
		return "", false
	}
	c, ok := vp.Filter.(*filter.Compare)
	if !ok || c.Op != filter.Eq || c.Attr.Sub != "value" || c.Value.Kind != filter.KindString {
		return "", false
	}
	id, valid := canonicalID(c.Value.Str)
	return id, valid
}

// memberValues reads an operation value naming members: an object, a
// list of objects ({"value": id, "display": ...}), or bare id strings.
func memberValues(v any) ([]store.Member, error) {
	var out []store.Member
	for i, el := range asList(v) {
		m, _ := el.(map[string]any)
		id, _ := m["value"].(string)
		if s, ok := el.(string); ok {
			id = s
		}
		cid, ok := canonicalID(id)
		if !ok {
			return nil, patchError(scimerrors.ScimTypeInvalidValue, "members value %d must be the id of a user or group of this tenant, got %q.", i, truncate(id, 80))
		}
		display, _ := m["display"].(string)
		out = append(out, store.Member{ID: cid, Display: display})
	}
	return out, nil
}

// memberFriendly rewrites member values the way Entra and Microsoft's
// client send them: bare id strings become {"value": id} and displayName
// becomes display. Path-less values with a members key are split into a
// members operation and the rest.
func memberFriendly(ops []PatchOp) []PatchOp {
	var out []PatchOp
	for _, op := range ops {
		if obj, ok := op.Value.(map[string]any); ok && strings.TrimSpace(op.Path) == "" {
			out = append(out, splitMembersKey(op, obj)...)
			continue
		}
		if isMembersPath(op.Path) {
			op.Value = friendlyMembers(op.Value)
		}
		out = append(out, op)
	}
	return out
}

func splitMembersKey(op PatchOp, obj map[string]any) []PatchOp {
	rest := map[string]any{}
	var out []PatchOp
	for k, v := range obj {
		if strings.EqualFold(k, "members") {
			out = append(out, PatchOp{Op: op.Op, Path: "members", Value: friendlyMembers(v)})
		} else {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		out = append([]PatchOp{{Op: op.Op, Value: rest}}, out...)
	}
	return out
}

func friendlyMembers(v any) any {
	if v == nil {
		return nil
	}
	var out []any
	for _, el := range asList(v) {
		switch el := el.(type) {
		case string:
			out = append(out, map[string]any{"value": el})
		case map[string]any:
			out = append(out, friendlyMember(el))
		default:
			out = append(out, el)
		}
	}
	return out
}

func friendlyMember(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch strings.ToLower(k) {
		case "value":
			out["value"] = v
		case "display", "displayname":
			out["display"] = v
		default:
			out[k] = v
		}
	}
	return out
}

// judgeMemberPatch applies the policy to a PATCH of a group: group.update
// needs its tier, and every member added or removed is a change to that
// user. (The general path judges inside its transaction instead.)
func (s *Service) judgeMemberPatch(ctx context.Context, p policy.Principal, id string, mp store.MemberPatch, fast bool) error {
	if !fast {
		return allow(p, policy.GroupUpdate, policy.Effect{})
	}
	return s.membersChange(ctx, p, policy.GroupUpdate, id, append(memberIDs(mp.Add), mp.Remove...), mp.RemoveAll)
}
