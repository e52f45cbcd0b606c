package store

import "sort"

// MemberDiff is the change between two member lists, keyed by member id.
type MemberDiff struct {
	Added   []Member // ids present only after
	Removed []string // ids present only before
	Changed []Member // ids in both whose Display changed
}

// DiffMembers computes what a backend must write to turn before into after.
// Duplicate ids in after count once (the first wins).
func DiffMembers(before, after []Member) MemberDiff {
	old := make(map[string]Member, len(before))
	for _, m := range before {
		old[m.ID] = m
	}
	var d MemberDiff
	seen := make(map[string]bool, len(after))
	for _, m := range after {
		if seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		prev, ok := old[m.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, m)
		case m.Display != "" && m.Display != prev.Display:
			d.Changed = append(d.Changed, m)
		}
	}
	for _, m := range before {
		if !seen[m.ID] {
			d.Removed = append(d.Removed, m.ID)
		}
	}
	return d
}

// Chunks splits ids into slices of at most n, for IN lists.
func Chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// PrepareMemberLoad empties the Members of groups (never nil afterwards)
// and returns each group's index by id and the ids, for a backend that
// then reads all their member rows at once.
func PrepareMemberLoad(groups []Group) (map[string]int, []string) {
	idx := make(map[string]int, len(groups))
	ids := make([]string, len(groups))
	for i, g := range groups {
		idx[g.ID], ids[i] = i, g.ID
		groups[i].Members = []Member{}
	}
	return idx, ids
}

// ApplyResolved completes members from what a backend found for their ids
// (Type and the display fallback). It fails with a *ReferenceError listing
// every id that was not found or that is the group itself.
func ApplyResolved(groupID string, members []Member, found map[string]Member) ([]Member, error) {
	var missing []string
	out := make([]Member, 0, len(members))
	for _, m := range members {
		f, ok := found[m.ID]
		if !ok || m.ID == groupID {
			missing = append(missing, m.ID)
			continue
		}
		if m.Display == "" {
			m.Display = f.Display
		}
		m.Type = f.Type
		out = append(out, m)
	}
	if len(missing) > 0 {
		return nil, &ReferenceError{IDs: missing}
	}
	return out, nil
}

// FinalMembers is the member list after a diff was written: before, less
// the removed ids, with changed displays, plus the resolved additions, in
// the order backends list members (by id).
func FinalMembers(before []Member, d MemberDiff, added []Member) []Member {
	gone := make(map[string]bool, len(d.Removed))
	for _, id := range d.Removed {
		gone[id] = true
	}
	changed := make(map[string]string, len(d.Changed))
	for _, m := range d.Changed {
		changed[m.ID] = m.Display
	}
	out := make([]Member, 0, len(before)+len(added))
	for _, m := range before {
		if gone[m.ID] {
			continue
		}
		if disp, ok := changed[m.ID]; ok {
			m.Display = disp
		}
		out = append(out, m)
	}
	out = append(out, added...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NestedGroups returns the ids of the resolved members of type Group: the
// only additions that can close a cycle, so a backend runs its cycle check
// for them alone (adding users costs nothing extra).
func NestedGroups(members []Member) []string {
	var ids []string
	for _, m := range members {
		if m.Type == "Group" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// CycleError reports the candidate member ids that are among ancestors, the
// group itself and every group that contains it directly or through nested
// groups: adding any of them would make a group contain itself. It returns
// a *ReferenceError naming them in candidate order, or nil.
func CycleError(candidates []string, ancestors map[string]bool) error {
	var bad []string
	for _, id := range candidates {
		if ancestors[id] {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		return &ReferenceError{IDs: bad}
	}
	return nil
}

// SplitAdded splits the resolved additions of a MemberPatch by whether the
// patch gave a display (add is MemberPatch.Add as the caller sent it,
// resolved is what ApplyResolved made of it). For an id that already is a
// member, a given display replaces the row's display; without one the row
// is kept as it is.
func SplitAdded(add, resolved []Member) (withDisplay, without []Member) {
	given := make(map[string]bool, len(add))
	for _, m := range DiffMembers(nil, add).Added {
		given[m.ID] = m.Display != ""
	}
	for _, m := range resolved {
		if given[m.ID] {
			withDisplay = append(withDisplay, m)
		} else {
			without = append(without, m)
		}
	}
	return withDisplay, without
}

// ResolveMembers is the shared part of resolving members to add: it drops
// duplicate ids (the first wins), looks the rest up through lookup (ids to
// the users and groups found in the tenant), completes them with
// ApplyResolved, and lets checkCycles refuse nestings. Backends supply the
// two queries.
func ResolveMembers(groupID string, members []Member, lookup func(ids []string) (map[string]Member, error),
	checkCycles func(resolved []Member) error) ([]Member, error) {
	if len(members) == 0 {
		return nil, nil
	}
	members = DiffMembers(nil, members).Added
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	found, err := lookup(ids)
	if err != nil {
		return nil, err
	}
	resolved, err := ApplyResolved(groupID, members, found)
	if err != nil {
		return nil, err
	}
	if err := checkCycles(resolved); err != nil {
		return nil, err
	}
	return resolved, nil
}

// MemberTiersSQL is the statement behind Groups.MemberTiers, the same on
// both backends: the distinct tiers of the users in the group or in any
// group nested in it, at any depth (UNION, not UNION ALL, so a walk ends
// even on a cycle). ph numbers the placeholders in the backend's style;
// its parameters are the tenant (1) and the group id (2).
func MemberTiersSQL(ph func(int) string) string {
	return `WITH RECURSIVE reach(id) AS (
		SELECT g.id FROM groups g WHERE g.tenant_id = ` + ph(1) + ` AND g.id = ` + ph(2) + `
		UNION
		SELECT m.member_id FROM group_members m JOIN reach r ON m.group_id = r.id
		WHERE m.tenant_id = ` + ph(1) + ` AND m.member_type = 'Group')
	SELECT DISTINCT u.tier FROM reach r
	JOIN group_members m ON m.tenant_id = ` + ph(1) + ` AND m.group_id = r.id AND m.member_type = 'User'
	JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id`
}

// NamedIDs returns the distinct ids mp adds or removes: those whose
// current rows MemberPatch.Changes needs.
func (m MemberPatch) NamedIDs() []string {
	seen := make(map[string]bool, len(m.Add)+len(m.Remove))
	ids := make([]string, 0, len(m.Add)+len(m.Remove))
	for _, id := range append(MemberIDs(m.Add), m.Remove...) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// MemberIDs returns the ids of ms, in order.
func MemberIDs(ms []Member) []string {
	ids := make([]string, len(ms))
	for i, mb := range ms {
		ids[i] = mb.ID
	}
	return ids
}

// Changes reports whether applying m changes any of a group's member rows.
// present holds the group's current rows of m.NamedIDs(); with RemoveAll,
// count is the group's number of member rows and found what the added ids
// resolve to (the display an added member without one gets when its row is
// written again). Without RemoveAll an addition changes nothing when the id
// is a member already and the client gave no display or the current one,
// and a removal changes nothing when the id is no member. With RemoveAll
// the patch changes nothing when it adds back exactly the current members,
// each with the display it has.
func (m MemberPatch) Changes(present map[string]Member, count int, found map[string]Member) bool {
	for _, id := range m.Remove {
		if _, ok := present[id]; ok {
			return true
		}
	}
	adds := DiffMembers(nil, m.Add).Added // the first of duplicate ids
	if m.RemoveAll && count != len(adds) {
		return true
	}
	for _, a := range adds {
		cur, ok := present[a.ID]
		if !ok {
			return true
		}
		display := a.Display
		if display == "" && m.RemoveAll {
			display = found[a.ID].Display
		}
		if display != "" && display != cur.Display {
			return true
		}
	}
	return false
}
