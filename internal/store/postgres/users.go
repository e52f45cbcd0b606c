package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// userColumns are read in this order by scanUser.
const userColumns = `id, user_name, coalesce(external_id, ''), coalesce(display_name, ''), active, tier,
	created, last_modified, version, doc`

// CreateUser inserts a user, its email rows and its audit event with one
// statement (data-modifying CTEs): one round trip, one implicit
// transaction, all or nothing.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	q := `WITH ins AS (INSERT INTO users (tenant_id, user_name_norm, id, user_name, external_id,
			display_name, active, tier, created, last_modified, version, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING 1)`
	args := []any{u.TenantID, store.NormalizeUserName(u.UserName), u.ID, u.UserName, nullIfEmpty(u.ExternalID),
		nullIfEmpty(u.DisplayName), u.Active, string(u.Tier), u.Created, u.LastModified, u.Version, u.Doc}
	if len(u.Emails) > 0 {
		values, norms, types, primary := emailColumns(u)
		q += `, em AS (INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary)
			SELECT $1, $3, e.ord - 1, e.value, e.norm, nullif(e.type, ''), e.is_primary
			FROM unnest($13::text[], $14::text[], $15::text[], $16::boolean[]) WITH ORDINALITY AS e(value, norm, type, is_primary, ord))`
		args = append(args, values, norms, types, primary)
	}
	if e, ok := store.AuditFor(ctx, u.TenantID, "User", u.ID, u.Doc, uuid.NewString); ok {
		n := len(args)
		q += fmt.Sprintf(`, au AS (INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
			resource_type, resource_id, request_id, source, attributes)
			VALUES ($1, $%d, $%d, $%d, $%d, $%d, $%d, 'User', $3, $%d, $%d, $%d))`, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9)
		args = append(args, e.ID, e.At, e.Actor, e.ActorKind, e.ActorTier, e.Action, e.RequestID, e.Source, strings.Join(e.Attributes, ","))
	}
	if msgs := store.OutboxRows(u); len(msgs) > 0 {
		ins, outArgs := outboxInsert(msgs, len(args)+1)
		q += `, ob AS (` + ins + `)`
		args = append(args, outArgs...)
	}
	if _, err := s.pool.Exec(ctx, q+` SELECT count(*) FROM ins`, args...); err != nil {
		return store.User{}, fmt.Errorf("insert user: %w", translate(err))
	}
	return u, nil
}

func emailColumns(u store.User) (values, norms, types []string, primary []bool) {
	n := len(u.Emails)
	values, norms, types, primary = make([]string, n), make([]string, n), make([]string, n), make([]bool, n)
	for i, e := range u.Emails {
		values[i], norms[i], types[i], primary[i] = e.Value, store.NormalizeUserName(e.Value), e.Type, e.Primary
	}
	return values, norms, types, primary
}

// insertEmails writes u.Emails in order, in one statement.
const insertEmailsSQL = `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary)
	SELECT $1, $2, e.ord - 1, e.value, e.norm, nullif(e.type, ''), e.is_primary
	FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[]) WITH ORDINALITY AS e(value, norm, type, is_primary, ord)`

func scanUser(tenant string, row pgx.Row) (store.User, error) {
	var u store.User
	var created, modified time.Time
	var tier string
	err := row.Scan(&u.ID, &u.UserName, &u.ExternalID, &u.DisplayName, &u.Active, &tier, &created, &modified, &u.Version, &u.Doc)
	if err != nil {
		return store.User{}, translate(err)
	}
	u.TenantID, u.Created, u.LastModified, u.Tier = tenant, created.UTC(), modified.UTC(), store.Tier(tier)
	return u, nil
}

// emailArrays reads a user's email rows as arrays in the same statement
// as the user (whose table has the given alias), so reading users is one
// round trip.
func emailArrays(alias string) string {
	return strings.ReplaceAll(`,
	ARRAY(SELECT e.value FROM user_emails e WHERE e.tenant_id = U.tenant_id AND e.user_id = U.id ORDER BY e.ord),
	ARRAY(SELECT coalesce(e.type, '') FROM user_emails e WHERE e.tenant_id = U.tenant_id AND e.user_id = U.id ORDER BY e.ord),
	ARRAY(SELECT e.is_primary FROM user_emails e WHERE e.tenant_id = U.tenant_id AND e.user_id = U.id ORDER BY e.ord)`, "U.", alias+".")
}

// getUser reads one user with what load asks for.
func getUser(ctx context.Context, q querier, tenant, id string, load store.UserLoad) (store.User, error) {
	u, err := scanUserWithEmails(tenant, load, q.QueryRow(ctx, getUserSQL[readShape(load)], tenant, id))
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// readShape numbers the four column lists a user read can select
// (emails or not, groups or not), so statements are built once.
func readShape(load store.UserLoad) int {
	n := 0
	if !load.WithoutEmails {
		n |= 1
	}
	if load.Groups {
		n |= 2
	}
	return n
}

// readColumns and getUserSQL hold, per read shape, the columns of a read
// from users aliased r and the GetUser statement (built once: the strings
// are long, and pgx finds its cached statement by the text).
var readColumns, getUserSQL = func() (cols, get [4]string) {
	for shape := range 4 {
		load := store.UserLoad{WithoutEmails: shape&1 == 0, Groups: shape&2 != 0}
		cols[shape] = buildReadColumns("r", load)
		get[shape] = `SELECT ` + buildReadColumns("users", load) + ` FROM users WHERE tenant_id = $1 AND id = $2`
	}
	return cols, get
}()

// lockUserSQL reads and locks a user, with its emails and groups, for
// UpdateUser.
var lockUserSQL = getUserSQL[readShape(store.UserLoad{Groups: true})] + ` FOR NO KEY UPDATE`

// userReadColumns are the columns a read selects from users aliased r.
func userReadColumns(load store.UserLoad) string { return readColumns[readShape(load)] }

// buildReadColumns lists userColumns and, as load asks, the email arrays
// and the group arrays, for the users table under the given alias.
// scanUserWithEmails reads them back.
func buildReadColumns(alias string, load store.UserLoad) string {
	cols := userColumns
	if !load.WithoutEmails {
		cols += emailArrays(alias)
	}
	if load.Groups {
		cols += groupArrays(alias)
	}
	return cols
}

// groupArrays reads the ids and display names of a user's direct groups as
// two arrays in the same order (display name in byte order, then id, as
// the SQLite backend).
func groupArrays(alias string) string {
	return strings.ReplaceAll(`,
	ARRAY(SELECT g.id FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
		WHERE m.tenant_id = U.tenant_id AND m.member_id = U.id ORDER BY g.display_name COLLATE "C", g.id),
	ARRAY(SELECT g.display_name FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
		WHERE m.tenant_id = U.tenant_id AND m.member_id = U.id ORDER BY g.display_name COLLATE "C", g.id)`, "U.", alias+".")
}

// scanUserWithEmails scans the columns buildReadColumns lists for load.
func scanUserWithEmails(tenant string, load store.UserLoad, row pgx.Row) (store.User, error) {
	var values, types, groupIDs, groupNames []string
	var primary []bool
	var tail []any
	if !load.WithoutEmails {
		tail = append(tail, &values, &types, &primary)
	}
	if load.Groups {
		tail = append(tail, &groupIDs, &groupNames)
	}
	u, err := scanUser(tenant, scanTail{row, tail})
	if err != nil {
		return store.User{}, err
	}
	for i := range values {
		u.Emails = append(u.Emails, store.Email{Value: values[i], Type: types[i], Primary: primary[i]})
	}
	for i := range groupIDs {
		u.Groups = append(u.Groups, store.GroupRef{ID: groupIDs[i], DisplayName: groupNames[i]})
	}
	return u, nil
}

// scanTail scans a row's leading columns with the caller's destinations
// and its trailing ones into tail.
type scanTail struct {
	row  pgx.Row
	tail []any
}

// Scan implements pgx.Row.
func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail...)...) }

// GetUser returns one user.
func (s *Store) GetUser(ctx context.Context, tenant, id string, load store.UserLoad) (store.User, error) {
	return getUser(ctx, s.pool, tenant, id, load)
}

// UpdateUser is a read-modify-write on the locked user row, in two round
// trips: the locked read (with emails and groups), then the writes and
// the commit.
func (s *Store) UpdateUser(ctx context.Context, tenant, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	err := s.pipeline(ctx, func(p *pipeTx) error {
		load := store.UserLoad{Groups: true}
		b := &pgx.Batch{}
		var u store.User
		b.Queue(lockUserSQL,
			tenant, id).QueryRow(func(row pgx.Row) (err error) {
			u, err = scanUserWithEmails(tenant, load, row)
			return err
		})
		if err := p.send(ctx, b, false); err != nil {
			return fmt.Errorf("get user %s: %w", id, translate(err))
		}
		if err := fn(&u); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = u
				return nil
			}
			return err
		}
		u.TenantID, u.ID, u.Version = tenant, id, u.Version+1
		b = &pgx.Batch{}
		queueWriteUser(ctx, b, u)
		if err := p.send(ctx, b, true); err != nil {
			return fmt.Errorf("update user: %w", translate(err))
		}
		out = u
		return nil
	})
	return out, err
}

// queueWriteUser queues the statements that store u's columns, replace its
// emails and record the audit event; they run in order.
func queueWriteUser(ctx context.Context, b *pgx.Batch, u store.User) {
	b.Queue(`UPDATE users SET user_name = $1, user_name_norm = $2, external_id = $3, display_name = $4,
		active = $5, last_modified = $6, version = $7, doc = $8, tier = $11 WHERE tenant_id = $9 AND id = $10`,
		u.UserName, store.NormalizeUserName(u.UserName), nullIfEmpty(u.ExternalID), nullIfEmpty(u.DisplayName),
		u.Active, u.LastModified, u.Version, u.Doc, u.TenantID, u.ID, string(u.Tier))
	b.Queue(`DELETE FROM user_emails WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID)
	if len(u.Emails) > 0 {
		values, norms, types, primary := emailColumns(u)
		b.Queue(insertEmailsSQL, u.TenantID, u.ID, values, norms, types, primary)
	}
	queueAudit(ctx, b, u.TenantID, "User", u.ID, u.Doc)
}

// DeleteUser removes a user, its emails and its memberships (neither has
// a foreign key to users: migration 0016); a non-zero version must be the
// user's current one.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string, version int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := deleteVersioned(ctx, tx, "users", tenant, id, version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_emails WHERE tenant_id = $1 AND user_id = $2`, tenant, id); err != nil {
			return fmt.Errorf("delete emails of %s: %w", id, translate(err))
		}
		return deleteMemberships(ctx, tx, tenant, id)
	})
}

// deleteVersioned deletes one row of table (users or groups) when version is
// 0 or the row's current version. The DELETE re-checks its condition on the
// newest row version if a concurrent update commits first, so a stale
// version never deletes. When nothing was deleted it tells, inside the same
// transaction, an unknown id (ErrNotFound) from a stale version
// (ErrVersionMismatch).
func deleteVersioned(ctx context.Context, tx pgx.Tx, table, tenant, id string, version int64) error {
	kind := strings.TrimSuffix(table, "s")
	tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND id = $2 AND ($3::bigint = 0 OR version = $3)`,
		tenant, id, version)
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, translate(err))
	}
	if tag.RowsAffected() > 0 {
		return writeAudit(ctx, tx, tenant, store.ResourceTypeOf(table), id, nil)
	}
	var current int64
	if err := tx.QueryRow(ctx, `SELECT version FROM `+table+` WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&current); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, translate(err))
	}
	return fmt.Errorf("delete %s %s: version is %d, not %d: %w", kind, id, current, version, store.ErrVersionMismatch)
}

// deleteMemberships removes every row naming memberID as a member.
func deleteMemberships(ctx context.Context, tx pgx.Tx, tenant, memberID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2`, tenant, memberID); err != nil {
		return fmt.Errorf("delete memberships of %s: %w", memberID, translate(err))
	}
	return nil
}

// ListUsers returns the users q selects and how many match its filter.
func (s *Store) ListUsers(ctx context.Context, tenant string, q store.Query, load store.UserLoad) ([]store.User, int, error) {
	st, err := sqlq.List(sqlq.Postgres, sqlq.Users, userReadColumns(load), tenant, q)
	if err != nil {
		return nil, 0, fmt.Errorf("build user query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if q.Filter != nil || (q.NoTotal && q.Limit > 0) {
		if q.Limit <= 0 {
			total, err := s.count(ctx, st)
			return []store.User{}, total, err
		}
		return s.filteredUsers(ctx, tenant, q, load, st)
	}
	if q.Limit <= 0 {
		total, err := s.countUsers(ctx, tenant)
		return []store.User{}, total, err
	}
	// Without a filter the total is the tenant's user count, read at the
	// same time as the page, on another connection.
	type counted struct {
		n   int
		err error
	}
	ch := make(chan counted, 1)
	go func() {
		n, err := s.countUsers(ctx, tenant)
		ch <- counted{n, err}
	}()
	users, err := s.usersPage(ctx, tenant, q, load, st)
	c := <-ch
	if c.err != nil {
		return nil, 0, c.err
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", s.translateQuery(ctx, err))
	}
	return users, c.n, nil
}

// countUsers is the number of the tenant's users, kept in user_counts by
// triggers on users (migration 0006).
func (s *Store) countUsers(ctx context.Context, tenant string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = $1`, tenant).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", s.translateQuery(ctx, err))
	}
	return n, nil
}

// filteredUsers reads the page first and counts only when the page does
// not tell the total: a lookup (userName eq, externalId eq) is then one
// statement.
func (s *Store) filteredUsers(ctx context.Context, tenant string, q store.Query, load store.UserLoad, st sqlq.Statements) ([]store.User, int, error) {
	users, err := s.usersPage(ctx, tenant, q, load, st)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", s.translateQuery(ctx, err))
	}
	if total, ok := store.TotalFromPage(q, len(users)); ok {
		return users, total, nil
	}
	total, err := s.count(ctx, st)
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// UserTiers returns the tiers of the given users.
func (s *Store) UserTiers(ctx context.Context, tenant string, ids []string) (map[string]store.Tier, error) {
	out := make(map[string]store.Tier, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, tier FROM users WHERE tenant_id = $1 AND id = ANY($2)`, custom(tenant, ids)...)
	if err != nil {
		return nil, fmt.Errorf("user tiers: %w", translate(err))
	}
	var id, tier string
	_, err = pgx.ForEachRow(rows, []any{&id, &tier}, func() error { out[id] = store.Tier(tier); return nil })
	if err != nil {
		return nil, fmt.Errorf("user tiers: %w", translate(err))
	}
	return out, nil
}

// deferAfter is the offset from which a page runs as a deferred join.
const deferAfter = 1000

// usersPage reads the page in one statement, or, for deep offsets, as a
// deferred join: the ids first (the rows it skips are read from indexes),
// then those users by primary key, put back in the ids' order.
func (s *Store) usersPage(ctx context.Context, tenant string, q store.Query, load store.UserLoad, st sqlq.Statements) ([]store.User, error) {
	if q.Offset < deferAfter {
		rows, err := s.pool.Query(ctx, st.Page, listArgs(st, st.PageArgs)...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUserWithEmails(tenant, load, r) })
	}
	rows, err := s.pool.Query(ctx, st.IDs, listArgs(st, st.PageArgs)...)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return []store.User{}, err
	}
	rows, err = s.pool.Query(ctx, `SELECT `+userReadColumns(load)+` FROM users r WHERE tenant_id = $1 AND id = ANY($2)`, custom(tenant, ids)...)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUserWithEmails(tenant, load, r) })
	if err != nil {
		return nil, err
	}
	return inOrder(ids, found), nil
}

// inOrder puts users in the order of ids, skipping any deleted meanwhile.
func inOrder(ids []string, found []store.User) []store.User {
	byID := make(map[string]store.User, len(found))
	for _, u := range found {
		byID[u.ID] = u
	}
	out := make([]store.User, 0, len(ids))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			out = append(out, u)
		}
	}
	return out
}
