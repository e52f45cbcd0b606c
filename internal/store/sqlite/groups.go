package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

const groupColumns = `id, display_name, external_id, created, last_modified, version, doc`

// CreateGroup inserts a group and its member rows.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) (store.Group, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (tenant_id, display_name_norm, `+groupColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, g.TenantID, store.NormalizeUserName(g.DisplayName), g.ID, g.DisplayName,
			nullString(g.ExternalID), micros(g.Created), micros(g.LastModified), g.Version, string(g.Doc))
		if err != nil {
			return fmt.Errorf("insert group: %w", translate(err))
		}
		added, err := resolveMembers(ctx, tx, g.TenantID, g.ID, g.Members)
		if err != nil {
			return err
		}
		g.Members = store.FinalMembers(nil, store.MemberDiff{}, added)
		if err := insertMembers(ctx, tx, g.TenantID, g.ID, added); err != nil {
			return err
		}
		return writeAudit(ctx, tx, g.TenantID, "Group", g.ID, g.Doc)
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// resolveMembers checks that every member exists in the tenant, sets its
// type and fills an empty display. It keeps the first of duplicate ids.
func resolveMembers(ctx context.Context, tx *sql.Tx, tenant, groupID string, members []store.Member) ([]store.Member, error) {
	return store.ResolveMembers(groupID, members,
		func(ids []string) (map[string]store.Member, error) { return lookupMembers(ctx, tx, tenant, ids) },
		func(resolved []store.Member) error { return checkCycles(ctx, tx, tenant, groupID, resolved) })
}

// ancestorsQuery lists a group and every group that contains it, directly
// or through nested groups, walking member rows upwards through the
// group_members_member index (a group usually has few parents, while its
// own member rows may be many). CROSS JOIN makes SQLite keep anc as the
// outer loop, so each step is an index search on (tenant_id, member_id)
// rather than a scan of the tenant's member rows. UNION (not UNION ALL)
// drops rows already seen, so the walk ends even on a cycle.
const ancestorsQuery = `WITH RECURSIVE anc(id) AS (
		SELECT ?
		UNION
		SELECT m.group_id FROM anc CROSS JOIN group_members m
		WHERE m.tenant_id = ? AND m.member_id = anc.id AND m.member_type = 'Group'
	)
	SELECT id FROM anc`

// checkCycles rejects resolved additions to groupID that would make a group
// contain itself: a nested group M may not be added to G when G is M or G is
// reachable from M, i.e. when M is G or one of G's ancestors. It queries only
// when a group is being added. Writers are serialized by the single writer
// connection, so the check cannot race another addition.
func checkCycles(ctx context.Context, tx *sql.Tx, tenant, groupID string, resolved []store.Member) error {
	nested := store.NestedGroups(resolved)
	if len(nested) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, ancestorsQuery, groupID, tenant)
	if err != nil {
		return fmt.Errorf("check member cycles: %w", translate(err))
	}
	defer rows.Close()
	ancestors := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("scan ancestor: %w", err)
		}
		ancestors[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check member cycles: %w", translate(err))
	}
	return store.CycleError(nested, ancestors)
}

func lookupMembers(ctx context.Context, tx *sql.Tx, tenant string, ids []string) (map[string]store.Member, error) {
	found := make(map[string]store.Member, len(ids))
	queries := []string{
		`SELECT id, 'User', coalesce(display_name, user_name) FROM users WHERE tenant_id = ? AND id IN (%s)`,
		`SELECT id, 'Group', display_name FROM groups WHERE tenant_id = ? AND id IN (%s)`,
	}
	for _, chunk := range store.Chunks(ids, 500) {
		for _, q := range queries {
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(q, placeholders(len(chunk))), append([]any{tenant}, anySlice(chunk)...)...)
			if err != nil {
				return nil, fmt.Errorf("resolve members: %w", translate(err))
			}
			if err := collectMembers(rows, found); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

func collectMembers(rows *sql.Rows, into map[string]store.Member) error {
	defer rows.Close()
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.ID, &m.Type, &m.Display); err != nil {
			return fmt.Errorf("scan member: %w", err)
		}
		into[m.ID] = m
	}
	return rows.Err()
}

func insertMembers(ctx context.Context, tx *sql.Tx, tenant, groupID string, members []store.Member) error {
	if len(members) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare member insert: %w", translate(err))
	}
	defer stmt.Close()
	for _, m := range members {
		if _, err := stmt.ExecContext(ctx, tenant, groupID, m.ID, m.Type, m.Display); err != nil {
			return fmt.Errorf("insert member: %w", translate(err))
		}
	}
	return nil
}

func scanGroup(tenant string, row rowScanner) (store.Group, error) {
	var g store.Group
	var ext sql.NullString
	var created, modified int64
	var doc string
	if err := row.Scan(&g.ID, &g.DisplayName, &ext, &created, &modified, &g.Version, &doc); err != nil {
		return store.Group{}, translate(err)
	}
	g.TenantID, g.ExternalID, g.Doc = tenant, ext.String, []byte(doc)
	g.Created, g.LastModified = fromMicros(created), fromMicros(modified)
	return g, nil
}

func (s *Store) getGroup(ctx context.Context, q queryer, tenant, id string, load store.GroupLoad) (store.Group, error) {
	g, err := scanGroup(tenant, q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return store.Group{}, fmt.Errorf("get group %s: %w", id, err)
	}
	if !load.Members {
		return g, nil
	}
	gs := []store.Group{g}
	if err := loadMembers(ctx, q, tenant, gs); err != nil {
		return store.Group{}, err
	}
	return gs[0], nil
}

func loadMembers(ctx context.Context, q queryer, tenant string, groups []store.Group) error {
	if len(groups) == 0 {
		return nil
	}
	idx, ids := store.PrepareMemberLoad(groups)
	rows, err := q.QueryContext(ctx, `SELECT group_id, member_id, member_type, display FROM group_members
		WHERE tenant_id = ? AND group_id IN (`+placeholders(len(ids))+`) ORDER BY group_id, member_id`,
		append([]any{tenant}, anySlice(ids)...)...)
	if err != nil {
		return fmt.Errorf("load members: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var gid string
		var m store.Member
		if err := rows.Scan(&gid, &m.ID, &m.Type, &m.Display); err != nil {
			return fmt.Errorf("scan member: %w", err)
		}
		g := &groups[idx[gid]]
		g.Members = append(g.Members, m)
	}
	return rows.Err()
}

// GetGroup returns one group.
func (s *Store) GetGroup(ctx context.Context, tenant, id string, load store.GroupLoad) (store.Group, error) {
	return s.getGroup(ctx, s.r, tenant, id, load)
}

// UpdateGroup is a read-modify-write that writes only the member difference.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, fn func(*store.Group) error) (store.Group, error) {
	var out store.Group
	err := s.tx(ctx, func(tx *sql.Tx) error {
		g, err := s.getGroup(ctx, tx, tenant, id, store.GroupLoad{Members: true})
		if err != nil {
			return err
		}
		before, read := g.Members, g
		if err := fn(&g); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = read
				return nil
			}
			return err
		}
		g.TenantID, g.ID, g.Version = tenant, id, g.Version+1
		if err := writeGroup(ctx, tx, g); err != nil {
			return err
		}
		d := store.DiffMembers(before, g.Members)
		added, err := writeMemberDiff(ctx, tx, g, d)
		g.Members = store.FinalMembers(before, d, added)
		out = g
		return err
	})
	return out, err
}

func writeGroup(ctx context.Context, tx *sql.Tx, g store.Group) error {
	_, err := tx.ExecContext(ctx, `UPDATE groups SET display_name = ?, display_name_norm = ?, external_id = ?,
		last_modified = ?, version = ?, doc = ? WHERE tenant_id = ? AND id = ?`,
		g.DisplayName, store.NormalizeUserName(g.DisplayName), nullString(g.ExternalID), micros(g.LastModified),
		g.Version, string(g.Doc), g.TenantID, g.ID)
	if err != nil {
		return fmt.Errorf("update group: %w", translate(err))
	}
	return writeAudit(ctx, tx, g.TenantID, "Group", g.ID, g.Doc)
}

// writeMemberDiff applies d and returns the resolved added members.
func writeMemberDiff(ctx context.Context, tx *sql.Tx, g store.Group, d store.MemberDiff) ([]store.Member, error) {
	if err := removeMembers(ctx, tx, g, d.Removed); err != nil {
		return nil, err
	}
	for _, m := range d.Changed {
		_, err := tx.ExecContext(ctx, `UPDATE group_members SET display = ? WHERE tenant_id = ? AND group_id = ? AND member_id = ?`,
			m.Display, g.TenantID, g.ID, m.ID)
		if err != nil {
			return nil, fmt.Errorf("update member: %w", translate(err))
		}
	}
	added, err := resolveMembers(ctx, tx, g.TenantID, g.ID, d.Added)
	if err != nil {
		return nil, err
	}
	return added, insertMembers(ctx, tx, g.TenantID, g.ID, added)
}

// DeleteGroup removes a group, its members and its own memberships; a
// non-zero version must be the group's current one.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, version int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := deleteVersioned(ctx, tx, "groups", tenant, id, version); err != nil {
			return err
		}
		return deleteMemberships(ctx, tx, tenant, id)
	})
}

// ModifyGroup updates the group row and applies mp to its member rows
// without reading them, all in one write transaction.
func (s *Store) ModifyGroup(ctx context.Context, tenant, id string, mp store.MemberPatch, fn func(*store.Group, bool) error) (store.Group, error) {
	var out store.Group
	err := s.tx(ctx, func(tx *sql.Tx) error {
		g, err := s.getGroup(ctx, tx, tenant, id, store.GroupLoad{})
		if err != nil {
			return err
		}
		changes, err := memberPatchChanges(ctx, tx, g, mp)
		if err != nil {
			return err
		}
		read := g
		if err := fn(&g, changes); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = read
				return nil
			}
			return err
		}
		g.TenantID, g.ID, g.Version, g.Members = tenant, id, g.Version+1, nil
		if err := writeGroup(ctx, tx, g); err != nil {
			return err
		}
		if err := applyMemberPatch(ctx, tx, g, mp); err != nil {
			return err
		}
		out = g
		return nil
	})
	if err != nil {
		return store.Group{}, err
	}
	return out, nil
}

// memberPatchChanges reads what MemberPatch.Changes needs (the current
// rows of the ids mp names; with RemoveAll the group's row count and what
// the added ids resolve to) and reports whether mp changes any row.
func memberPatchChanges(ctx context.Context, tx *sql.Tx, g store.Group, mp store.MemberPatch) (bool, error) {
	present := map[string]store.Member{}
	for _, chunk := range store.Chunks(mp.NamedIDs(), 500) {
		rows, err := tx.QueryContext(ctx, `SELECT member_id, member_type, display FROM group_members
			WHERE tenant_id = ? AND group_id = ? AND member_id IN (`+placeholders(len(chunk))+`)`,
			append([]any{g.TenantID, g.ID}, anySlice(chunk)...)...)
		if err != nil {
			return false, fmt.Errorf("read member rows: %w", translate(err))
		}
		if err := collectMembers(rows, present); err != nil {
			return false, err
		}
	}
	if !mp.RemoveAll {
		return mp.Changes(present, 0, nil), nil
	}
	var count int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM group_members WHERE tenant_id = ? AND group_id = ?`, g.TenantID, g.ID).Scan(&count)
	if err != nil {
		return false, fmt.Errorf("count members: %w", translate(err))
	}
	found, err := lookupMembers(ctx, tx, g.TenantID, store.MemberIDs(store.DiffMembers(nil, mp.Add).Added))
	if err != nil {
		return false, err
	}
	return mp.Changes(present, count, found), nil
}

// applyMemberPatch applies mp as set operations, touching only the rows it
// names (or, for RemoveAll, the group's rows through the primary key).
func applyMemberPatch(ctx context.Context, tx *sql.Tx, g store.Group, mp store.MemberPatch) error {
	if mp.RemoveAll {
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?`, g.TenantID, g.ID); err != nil {
			return fmt.Errorf("remove all members: %w", translate(err))
		}
	}
	if err := removeMembers(ctx, tx, g, mp.Remove); err != nil {
		return err
	}
	added, err := resolveMembers(ctx, tx, g.TenantID, g.ID, mp.Add)
	if err != nil {
		return err
	}
	withDisplay, without := store.SplitAdded(mp.Add, added)
	if err := upsertMembers(ctx, tx, g, withDisplay, `DO UPDATE SET display = excluded.display`); err != nil {
		return err
	}
	return upsertMembers(ctx, tx, g, without, `DO NOTHING`)
}

// upsertMembers inserts member rows; action says what happens to an id
// that already is a member.
func upsertMembers(ctx context.Context, tx *sql.Tx, g store.Group, members []store.Member, action string) error {
	if len(members) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, group_id, member_id) `+action)
	if err != nil {
		return fmt.Errorf("prepare member upsert: %w", translate(err))
	}
	defer stmt.Close()
	for _, m := range members {
		if _, err := stmt.ExecContext(ctx, g.TenantID, g.ID, m.ID, m.Type, m.Display); err != nil {
			return fmt.Errorf("add member: %w", translate(err))
		}
	}
	return nil
}

func removeMembers(ctx context.Context, tx *sql.Tx, g store.Group, ids []string) error {
	for _, chunk := range store.Chunks(ids, 500) {
		_, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id IN (`+
			placeholders(len(chunk))+`)`, append([]any{g.TenantID, g.ID}, anySlice(chunk)...)...)
		if err != nil {
			return fmt.Errorf("remove members: %w", translate(err))
		}
	}
	return nil
}

// ListGroups returns the groups q selects and how many match its filter.
func (s *Store) ListGroups(ctx context.Context, tenant string, q store.Query, load store.GroupLoad) ([]store.Group, int, error) {
	st, err := sqlq.List(sqlq.SQLite, sqlq.Groups, groupColumns, tenant, q)
	if err != nil {
		return nil, 0, fmt.Errorf("build group query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if q.Limit <= 0 {
		total, err := s.count(ctx, st)
		return []store.Group{}, total, err
	}
	rows, err := s.r.QueryContext(ctx, st.Page, st.PageArgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", s.translateQuery(ctx, err))
	}
	groups, err := collectGroups(tenant, rows)
	if err != nil {
		return nil, 0, s.translateQuery(ctx, err)
	}
	total, ok := store.TotalFromPage(q, len(groups))
	if !ok {
		if total, err = s.count(ctx, st); err != nil {
			return nil, 0, err
		}
	}
	if load.Members {
		err = loadMembers(ctx, s.r, tenant, groups)
	}
	return groups, total, err
}

func collectGroups(tenant string, rows *sql.Rows) ([]store.Group, error) {
	defer rows.Close()
	groups := []store.Group{}
	for rows.Next() {
		g, err := scanGroup(tenant, rows)
		if err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		groups = append(groups, g)
	}
	return groups, rows.Err()
}

// memberTiersSQL is store.MemberTiersSQL in SQLite's numbered placeholders.
var memberTiersSQL = store.MemberTiersSQL(func(i int) string { return fmt.Sprintf("?%d", i) })

// MemberTiers implements store.Groups: the tiers of the users the group
// reaches, nested groups included (store.MemberTiersSQL).
func (s *Store) MemberTiers(ctx context.Context, tenant, groupID string) ([]store.Tier, error) {
	rows, err := s.r.QueryContext(ctx, memberTiersSQL, tenant, groupID)
	if err != nil {
		return nil, fmt.Errorf("member tiers: %w", translate(err))
	}
	defer rows.Close()
	var out []store.Tier
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("scan member tier: %w", err)
		}
		out = append(out, store.Tier(t))
	}
	return out, rows.Err()
}
