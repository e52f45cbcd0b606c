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
	return resolveFound(ctx, tx, tenant, groupID, members,
		func(ids []string) (map[string]store.Member, error) { return lookupMembers(ctx, tx, tenant, ids) })
}

// resolveFound is resolveMembers with the lookup supplied (ModifyGroup
// prefetches it in a pipeline).
func resolveFound(ctx context.Context, tx execQuerier, tenant, groupID string, members []store.Member,
	lookup func([]string) (map[string]store.Member, error)) ([]store.Member, error) {
	return store.ResolveMembers(groupID, members, lookup,
		func(resolved []store.Member) error { return checkCycles(ctx, tx, tenant, groupID, resolved) })
}

// nestingLock is a transaction-level advisory lock per tenant, taken only
// by transactions that add a group to a group. Without it two transactions
// could each pass the cycle check (neither sees the other's uncommitted
// row) and commit G1 in G2 and G2 in G1.
const nestingLock = `SELECT pg_advisory_xact_lock(hashtextextended('scimbridge.group_nesting/' || $1, 0))`

// ancestorsQuery lists a group and every group that contains it, directly
// or through nested groups, walking member rows upwards through the
// group_members_member index (a group usually has few parents, while its
// own member rows may be many). UNION (not UNION ALL) drops rows already
// seen, so the walk ends even on a cycle.
const ancestorsQuery = `WITH RECURSIVE anc(id) AS (
		SELECT $2::text COLLATE "C"
		UNION
		SELECT m.group_id FROM group_members m JOIN anc ON m.member_id = anc.id
		WHERE m.tenant_id = $1 AND m.member_type = 'Group'
	)
	SELECT id FROM anc`

// checkCycles rejects resolved additions to groupID that would make a group
// contain itself: a nested group M may not be added to G when G is M or G is
// reachable from M, i.e. when M is G or one of G's ancestors. It runs only
// when a group is being added. The ancestor walk runs as its own statement
// after the nesting lock is held, so under READ COMMITTED its snapshot
// includes every nesting committed by the lock's previous holders.
func checkCycles(ctx context.Context, tx execQuerier, tenant, groupID string, resolved []store.Member) error {
	nested := store.NestedGroups(resolved)
	if len(nested) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, nestingLock, tenant); err != nil {
		return fmt.Errorf("lock group nesting: %w", translate(err))
	}
	rows, err := tx.Query(ctx, ancestorsQuery, tenant, groupID)
	if err != nil {
		return fmt.Errorf("check member cycles: %w", translate(err))
	}
	ancestors := map[string]bool{}
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		ancestors[id] = true
		return nil
	}); err != nil {
		return fmt.Errorf("check member cycles: %w", translate(err))
	}
	return store.CycleError(nested, ancestors)
}

// memberLookups find member ids among users and groups (pipelined: one
// round trip). FOR KEY SHARE keeps the rows from being deleted until this
// transaction ends.
var memberLookups = []string{
	`SELECT id, 'User', coalesce(display_name, user_name) FROM users
		WHERE tenant_id = $1 AND id = ANY($2) FOR KEY SHARE`,
	`SELECT id, 'Group', display_name FROM groups
		WHERE tenant_id = $1 AND id = ANY($2) FOR KEY SHARE`,
}

func lookupMembers(ctx context.Context, tx pgx.Tx, tenant string, ids []string) (map[string]store.Member, error) {
	b := &pgx.Batch{}
	found := queueMemberLookup(b, tenant, ids)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("resolve members: %w", translate(err))
	}
	return found, nil
}

// queueMemberLookup queues the lookup of ids (in chunks) on b; the map is
// filled when the batch's results are read.
func queueMemberLookup(b *pgx.Batch, tenant string, ids []string) map[string]store.Member {
	found := make(map[string]store.Member, len(ids))
	for _, chunk := range store.Chunks(ids, lookupChunk) {
		for _, q := range memberLookups {
			b.Queue(q, tenant, chunk).Query(func(rows pgx.Rows) error {
				var m store.Member
				_, err := pgx.ForEachRow(rows, []any{&m.ID, &m.Type, &m.Display}, func() error {
					found[m.ID] = m
					return nil
				})
				return err
			})
		}
	}
	return found
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

// queueMemberPatch queues mp's removals, then the upserts of its resolved
// additions (added; those whose display the client gave may change it).
func queueMemberPatch(b *pgx.Batch, g store.Group, mp store.MemberPatch, added []store.Member) {
	if mp.RemoveAll {
		b.Queue(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2`, g.TenantID, g.ID)
	}
	if len(mp.Remove) > 0 {
		b.Queue(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3)`,
			g.TenantID, g.ID, mp.Remove)
	}
	withDisplay, without := store.SplitAdded(mp.Add, added)
	queueUpsertMembers(b, g, withDisplay,
		`DO UPDATE SET display = EXCLUDED.display WHERE group_members.display IS DISTINCT FROM EXCLUDED.display`)
	queueUpsertMembers(b, g, without, `DO NOTHING`)
}

// queueUpsertMembers queues the insert of resolved member rows as one
// statement; action says what happens to an id that already is a member.
func queueUpsertMembers(b *pgx.Batch, g store.Group, members []store.Member, action string) {
	if len(members) == 0 {
		return
	}
	ids, types, displays := memberColumns(members)
	b.Queue(`INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display)
		SELECT $1, $2, m.id, m.type, m.display FROM unnest($3::text[], $4::text[], $5::text[]) AS m(id, type, display)
		ON CONFLICT (tenant_id, group_id, member_id) `+action,
		g.TenantID, g.ID, ids, types, displays)
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
	idx, ids := store.PrepareMemberLoad(groups)
	rows, err := q.Query(ctx, `SELECT group_id, member_id, member_type, display FROM group_members
		WHERE tenant_id = $1 AND group_id = ANY($2) ORDER BY group_id, member_id`, custom(tenant, ids)...)
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
