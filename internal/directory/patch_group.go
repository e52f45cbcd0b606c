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
	ops = memberFriendly(ops)
	mp, rest, fast, err := s.memberPatch(ops)
	if err != nil {
		return nil, err
	}
	if err := s.judgeMemberPatch(ctx, p, id, mp, fast); err != nil {
		return nil, err
	}
	var g store.Group
	actx, ev := audited(ctx, p, "patch")
	if fast {
		g, err = s.store.ModifyGroup(actx, p.Tenant, id, mp, func(g *store.Group) error { return s.patchGroupDoc(g, rest, pre, mp, ev) })
	} else {
		g, err = s.store.UpdateGroup(actx, p.Tenant, id, func(g *store.Group) error { return s.patchGroupWithMembers(ctx, p, g, ops, pre, ev) })
		g.Members = nil
	}
	if err != nil {
		return nil, s.translate(ctx, s.reg.Group, id, err)
	}
	return s.groupResource(g)
}

// patchGroupDoc applies the non-member operations to the group's document.
func (s *Service) patchGroupDoc(g *store.Group, ops []PatchOp, pre Precondition, mp store.MemberPatch, ev *store.AuditEvent) error {
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
	if !mp.Empty() {
		ev.Attributes = append(ev.Attributes, "members")
	}
	g.LastModified = s.clock()
	return nil
}

// patchGroupWithMembers is the general path: members join the document,
// every operation applies to it, and the new member list is written as a
// difference.
func (s *Service) patchGroupWithMembers(ctx context.Context, p policy.Principal, g *store.Group, ops []PatchOp, pre Precondition, ev *store.AuditEvent) error {
	if err := pre.check(g.Version); err != nil {
		return err
	}
	raw, err := docWithMembers(g)
	if err != nil {
		return err
	}
	doc, err := patchedDoc(s.reg.Group, g.ID, raw, ops)
	if err != nil {
		return err
	}
	members, err := membersOf(doc)
	if err != nil {
		return err
	}
	old, err := decodeDoc(g.Doc)
	if err != nil {
		return err
	}
	delete(doc, "members")
	d := store.DiffMembers(g.Members, members)
	if err := s.membersChange(ctx, p, policy.GroupUpdate, "", append(memberIDs(d.Added), d.Removed...), false); err != nil {
		return err
	}
	ev.Attributes = groupChanges(s.reg.Group, old, doc, d)
	g.Members = members
	g.LastModified = s.clock()
	return s.setGroupDoc(g, doc)
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
// is false when some member operation needs the member list.
func (s *Service) memberPatch(ops []PatchOp) (store.MemberPatch, []PatchOp, bool, error) {
	var mp store.MemberPatch
	var rest []PatchOp
	for _, op := range ops {
		if !isMembersPath(op.Path) {
			rest = append(rest, op)
			continue
		}
		ok, err := s.addMemberOp(&mp, op)
		if err != nil || !ok {
			return mp, nil, false, err
		}
	}
	return mp, rest, true, nil
}

func isMembersPath(path string) bool {
	p := strings.ToLower(strings.TrimSpace(path))
	p = strings.TrimPrefix(p, "urn:ietf:params:scim:schemas:core:2.0:group:")
	return p == "members" || strings.HasPrefix(p, "members[") || strings.HasPrefix(p, "members.")
}

// addMemberOp folds one members operation into mp, keeping the order of
// operations (an id removed after being added ends up removed).
func (s *Service) addMemberOp(mp *store.MemberPatch, op PatchOp) (bool, error) {
	kind := strings.ToLower(op.Op)
	path := strings.ToLower(strings.TrimSpace(op.Path))
	if strings.HasSuffix(path, "]") && kind == "remove" {
		id, ok := s.memberFilterID(op.Path)
		if ok {
			removeMember(mp, id)
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
		*mp = store.MemberPatch{RemoveAll: true}
		if kind == "replace" {
			mp.Add = members
		}
	case kind == "remove":
		for _, m := range members {
			removeMember(mp, m.ID)
		}
	default:
		for _, m := range members {
			addMember(mp, m)
		}
	}
	return true, nil
}

func removeMember(mp *store.MemberPatch, id string) {
	mp.Add = dropMember(mp.Add, id)
	if !mp.RemoveAll {
		mp.Remove = append(mp.Remove, id)
	}
}

func addMember(mp *store.MemberPatch, m store.Member) {
	mp.Add = append(dropMember(mp.Add, m.ID), m)
	var keep []string
	for _, id := range mp.Remove {
		if id != m.ID {
			keep = append(keep, id)
		}
	}
	mp.Remove = keep
}

func dropMember(list []store.Member, id string) []store.Member {
	var out []store.Member
	for _, m := range list {
		if m.ID != id {
			out = append(out, m)
		}
	}
	return out
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
