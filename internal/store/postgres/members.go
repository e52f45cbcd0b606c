package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// lookupChunk bounds the ids sent in one array parameter.
const lookupChunk = 5000

// resolveMembers checks that every member exists in the tenant, sets its
// type and fills an empty display. It keeps the first of duplicate ids.
func resolveMembers(ctx context.Context, tx pgx.Tx, tenant, groupID string, members []store.Member) ([]store.Member, error) {
	if len(members) == 0 {
		return nil, nil
	}
	members = store.DiffMembers(nil, members).Added
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	found, err := lookupMembers(ctx, tx, tenant, ids)
	if err != nil {
		return nil, err
	}
	return store.ApplyResolved(groupID, members, found)
}

// memberLookups find member ids among users and groups. FOR KEY SHARE keeps
// the rows from being deleted until this transaction ends.
var memberLookups = []string{
	`SELECT id, 'User', coalesce(display_name, user_name) FROM users
		WHERE tenant_id = $1 AND id = ANY($2) FOR KEY SHARE`,
	`SELECT id, 'Group', display_name FROM groups
		WHERE tenant_id = $1 AND id = ANY($2) FOR KEY SHARE`,
}

func lookupMembers(ctx context.Context, tx pgx.Tx, tenant string, ids []string) (map[string]store.Member, error) {
	found := make(map[string]store.Member, len(ids))
	for _, chunk := range store.Chunks(ids, lookupChunk) {
		for _, q := range memberLookups {
			rows, err := tx.Query(ctx, q, tenant, chunk)
			if err != nil {
				return nil, fmt.Errorf("resolve members: %w", translate(err))
			}
			var m store.Member
			_, err = pgx.ForEachRow(rows, []any{&m.ID, &m.Type, &m.Display}, func() error {
				found[m.ID] = m
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("resolve members: %w", translate(err))
			}
		}
	}
	return found, nil
}

// insertMembers writes resolved member rows in one statement.
func insertMembers(ctx context.Context, tx pgx.Tx, tenant, groupID string, members []store.Member) error {
	if len(members) == 0 {
		return nil
	}
	ids, types, displays := memberColumns(members)
	_, err := tx.Exec(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display)
		SELECT $1, $2, m.id, m.type, m.display FROM unnest($3::text[], $4::text[], $5::text[]) AS m(id, type, display)`,
		tenant, groupID, ids, types, displays)
	if err != nil {
		return fmt.Errorf("insert members: %w", translate(err))
	}
	return nil
}

func memberColumns(members []store.Member) (ids, types, displays []string) {
	ids, types, displays = make([]string, len(members)), make([]string, len(members)), make([]string, len(members))
	for i, m := range members {
		ids[i], types[i], displays[i] = m.ID, m.Type, m.Display
	}
	return ids, types, displays
}

// loadMembers fills the Members of groups (never nil afterwards), ordered by
// member id.
func loadMembers(ctx context.Context, q querier, tenant string, groups []store.Group) error {
	if len(groups) == 0 {
		return nil
	}
	idx := make(map[string]int, len(groups))
	ids := make([]string, len(groups))
	for i, g := range groups {
		idx[g.ID], ids[i] = i, g.ID
		groups[i].Members = []store.Member{}
	}
	rows, err := q.Query(ctx, `SELECT group_id, member_id, member_type, display FROM group_members
		WHERE tenant_id = $1 AND group_id = ANY($2) ORDER BY group_id, member_id`, tenant, ids)
	if err != nil {
		return fmt.Errorf("load members: %w", translate(err))
	}
	var gid string
	var m store.Member
	_, err = pgx.ForEachRow(rows, []any{&gid, &m.ID, &m.Type, &m.Display}, func() error {
		g := &groups[idx[gid]]
		g.Members = append(g.Members, m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	return nil
}

// writeMemberDiff applies d and returns the resolved added members.
func writeMemberDiff(ctx context.Context, tx pgx.Tx, g store.Group, d store.MemberDiff) ([]store.Member, error) {
	if err := removeMembers(ctx, tx, g, d.Removed); err != nil {
		return nil, err
	}
	if err := updateDisplays(ctx, tx, g, d.Changed); err != nil {
		return nil, err
	}
	added, err := resolveMembers(ctx, tx, g.TenantID, g.ID, d.Added)
	if err != nil {
		return nil, err
	}
	return added, insertMembers(ctx, tx, g.TenantID, g.ID, added)
}

func removeMembers(ctx context.Context, tx pgx.Tx, g store.Group, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3)`,
		g.TenantID, g.ID, ids)
	if err != nil {
		return fmt.Errorf("remove members: %w", translate(err))
	}
	return nil
}

func updateDisplays(ctx context.Context, tx pgx.Tx, g store.Group, changed []store.Member) error {
	if len(changed) == 0 {
		return nil
	}
	ids, _, displays := memberColumns(changed)
	_, err := tx.Exec(ctx, `UPDATE group_members m SET display = c.display
		FROM unnest($3::text[], $4::text[]) AS c(id, display)
		WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.member_id = c.id`, g.TenantID, g.ID, ids, displays)
	if err != nil {
		return fmt.Errorf("update member displays: %w", translate(err))
	}
	return nil
}
