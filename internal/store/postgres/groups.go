package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// groupColumns are read in this order by scanGroup.
const groupColumns = `id, display_name, coalesce(external_id, ''), created, last_modified, version, doc`

// CreateGroup inserts a group and its member rows.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) (store.Group, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO groups (tenant_id, display_name_norm, id, display_name, external_id,
			created, last_modified, version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			g.TenantID, store.NormalizeUserName(g.DisplayName), g.ID, g.DisplayName, nullIfEmpty(g.ExternalID),
			g.Created, g.LastModified, g.Version, g.Doc)
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

func scanGroup(tenant string, row pgx.Row) (store.Group, error) {
	var g store.Group
	var created, modified time.Time
	if err := row.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &created, &modified, &g.Version, &g.Doc); err != nil {
		return store.Group{}, translate(err)
	}
	g.TenantID, g.Created, g.LastModified = tenant, created.UTC(), modified.UTC()
	return g, nil
}

// getGroup reads one group; lock is appended to the SELECT (empty, or a
// row-locking clause inside a transaction).
func getGroup(ctx context.Context, q querier, tenant, id, lock string, load store.GroupLoad) (store.Group, error) {
	g, err := scanGroup(tenant, q.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups
		WHERE tenant_id = $1 AND id = $2 `+lock, tenant, id))
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

// GetGroup returns one group.
func (s *Store) GetGroup(ctx context.Context, tenant, id string, load store.GroupLoad) (store.Group, error) {
	return getGroup(ctx, s.pool, tenant, id, "", load)
}

// UpdateGroup is a read-modify-write on the locked group row that writes
// only the member difference.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, fn func(*store.Group) error) (store.Group, error) {
	var out store.Group
	err := s.tx(ctx, func(tx pgx.Tx) error {
		g, err := getGroup(ctx, tx, tenant, id, "FOR NO KEY UPDATE", store.GroupLoad{Members: true})
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

func writeGroup(ctx context.Context, tx pgx.Tx, g store.Group) error {
	b := &pgx.Batch{}
	queueWriteGroup(ctx, b, g)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("update group: %w", translate(err))
	}
	return nil
}

// queueWriteGroup queues the update of g's row and its audit event.
func queueWriteGroup(ctx context.Context, b *pgx.Batch, g store.Group) {
	b.Queue(`UPDATE groups SET display_name = $1, display_name_norm = $2, external_id = $3,
		last_modified = $4, version = $5, doc = $6 WHERE tenant_id = $7 AND id = $8`,
		g.DisplayName, store.NormalizeUserName(g.DisplayName), nullIfEmpty(g.ExternalID), g.LastModified,
		g.Version, g.Doc, g.TenantID, g.ID)
	queueAudit(ctx, b, g.TenantID, "Group", g.ID, g.Doc)
}

// DeleteGroup removes a group, its member rows (by cascade) and the rows
// naming it as a member of other groups; a non-zero version must be the
// group's current one.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, version int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := deleteVersioned(ctx, tx, "groups", tenant, id, version); err != nil {
			return err
		}
		return deleteMemberships(ctx, tx, tenant, id)
	})
}

// ModifyGroup updates the locked group row and applies mp to its member
// rows without reading them. The row lock (FOR NO KEY UPDATE) serializes
// writers of one group; it does not block member inserts elsewhere, whose
// foreign key check takes FOR KEY SHARE.
func (s *Store) ModifyGroup(ctx context.Context, tenant, id string, mp store.MemberPatch, fn func(*store.Group, bool) error) (store.Group, error) {
	var out store.Group
	err := s.pipeline(ctx, func(p *pipeTx) error {
		// Round trip 1: lock and read the group, look up the added members
		// and the current rows of the members mp names.
		b := &pgx.Batch{}
		var g store.Group
		b.Queue(`SELECT `+groupColumns+` FROM groups WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
			tenant, id).QueryRow(func(row pgx.Row) (err error) {
			g, err = scanGroup(tenant, row)
			return err
		})
		add := store.DiffMembers(nil, mp.Add).Added
		found := queueMemberLookup(b, tenant, memberIDs(add))
		rows := queueMemberRows(b, tenant, id, mp)
		if err := p.send(ctx, b, false); err != nil {
			return fmt.Errorf("get group %s: %w", id, translate(err))
		}
		read := g
		if err := fn(&g, mp.Changes(rows.present, rows.count, found)); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = read
				return nil
			}
			return err
		}
		g.TenantID, g.ID, g.Version, g.Members = tenant, id, g.Version+1, nil
		added, err := resolveFound(ctx, p, tenant, id, add,
			func([]string) (map[string]store.Member, error) { return found, nil })
		if err != nil {
			return err
		}
		// Round trip 2: the group row, its audit event, the member rows
		// and the commit.
		b = &pgx.Batch{}
		queueWriteGroup(ctx, b, g)
		queueMemberPatch(b, g, mp, added)
		if err := p.send(ctx, b, true); err != nil {
			return fmt.Errorf("modify group: %w", translate(err))
		}
		out = g
		return nil
	})
	if err != nil {
		return store.Group{}, err
	}
	return out, nil
}

func memberIDs(members []store.Member) []string {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	return ids
}

// ListGroups returns the groups q selects and how many match its filter.
func (s *Store) ListGroups(ctx context.Context, tenant string, q store.Query, load store.GroupLoad) ([]store.Group, int, error) {
	st, err := sqlq.List(sqlq.Postgres, sqlq.Groups, groupColumns, tenant, q)
	if err != nil {
		return nil, 0, fmt.Errorf("build group query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if q.Limit <= 0 {
		total, err := s.count(ctx, st)
		return []store.Group{}, total, err
	}
	rows, err := s.pool.Query(ctx, st.Page, listArgs(st, st.PageArgs)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", s.translateQuery(ctx, err))
	}
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Group, error) { return scanGroup(tenant, r) })
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", s.translateQuery(ctx, err))
	}
	total, ok := store.TotalFromPage(q, len(groups))
	if !ok {
		if total, err = s.count(ctx, st); err != nil {
			return nil, 0, err
		}
	}
	if load.Members {
		err = loadMembers(ctx, s.pool, tenant, groups)
	}
	return groups, total, err
}

// memberTiersSQL is store.MemberTiersSQL in PostgreSQL's placeholders.
var memberTiersSQL = store.MemberTiersSQL(func(i int) string { return fmt.Sprintf("$%d", i) })

// MemberTiers implements store.Groups: the tiers of the users the group
// reaches, nested groups included (store.MemberTiersSQL).
func (s *Store) MemberTiers(ctx context.Context, tenant, groupID string) ([]store.Tier, error) {
	rows, err := s.pool.Query(ctx, memberTiersSQL, custom(tenant, groupID)...)
	if err != nil {
		return nil, fmt.Errorf("member tiers: %w", translate(err))
	}
	tiers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("member tiers: %w", translate(err))
	}
	out := make([]store.Tier, len(tiers))
	for i, t := range tiers {
		out[i] = store.Tier(t)
	}
	return out, nil
}

// memberRows are the current rows of the members a MemberPatch names and,
// with RemoveAll, the group's number of rows: what MemberPatch.Changes
// needs.
type memberRows struct {
	present map[string]store.Member
	count   int
}

// queueMemberRows queues the reads of mp's memberRows on b (inside the
// transaction that holds the group's row lock); they are filled when the
// batch's results are read.
func queueMemberRows(b *pgx.Batch, tenant, groupID string, mp store.MemberPatch) *memberRows {
	r := &memberRows{present: map[string]store.Member{}}
	for _, chunk := range store.Chunks(mp.NamedIDs(), lookupChunk) {
		b.Queue(`SELECT member_id, member_type, display FROM group_members
			WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3)`, tenant, groupID, chunk).Query(func(rows pgx.Rows) error {
			var m store.Member
			_, err := pgx.ForEachRow(rows, []any{&m.ID, &m.Type, &m.Display}, func() error {
				r.present[m.ID] = m
				return nil
			})
			return err
		})
	}
	if mp.RemoveAll {
		b.Queue(`SELECT count(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2`, tenant, groupID).
			QueryRow(func(row pgx.Row) error { return row.Scan(&r.count) })
	}
	return r
}
