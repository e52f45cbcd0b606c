package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

const userColumns = `id, user_name, external_id, display_name, active, tier, created, last_modified, version, doc`

// CreateUser inserts a user and its email rows.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (tenant_id, user_name_norm, `+userColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.TenantID, store.NormalizeUserName(u.UserName), u.ID, u.UserName, nullString(u.ExternalID),
			nullString(u.DisplayName), boolInt(u.Active), string(u.Tier), micros(u.Created), micros(u.LastModified), u.Version, string(u.Doc))
		if err != nil {
			return fmt.Errorf("insert user: %w", translate(err))
		}
		if err := insertEmails(ctx, tx, u); err != nil {
			return err
		}
		if err := insertOutbox(ctx, tx, u); err != nil {
			return err
		}
		return writeAudit(ctx, tx, u.TenantID, "User", u.ID, u.Doc)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

func insertEmails(ctx context.Context, tx *sql.Tx, u store.User) error {
	for i, e := range u.Emails {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.TenantID, u.ID, i, e.Value, store.NormalizeUserName(e.Value), nullString(e.Type), boolInt(e.Primary))
		if err != nil {
			return fmt.Errorf("insert user email: %w", translate(err))
		}
	}
	return nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(tenant string, row rowScanner) (store.User, error) {
	var u store.User
	var ext, disp sql.NullString
	var active int
	var created, modified int64
	var doc, tier string
	if err := row.Scan(&u.ID, &u.UserName, &ext, &disp, &active, &tier, &created, &modified, &u.Version, &doc); err != nil {
		return store.User{}, translate(err)
	}
	u.TenantID, u.ExternalID, u.DisplayName, u.Active, u.Tier = tenant, ext.String, disp.String, active != 0, store.Tier(tier)
	u.Created, u.LastModified, u.Doc = fromMicros(created), fromMicros(modified), []byte(doc)
	return u, nil
}

func (s *Store) loadEmails(ctx context.Context, q queryer, users []store.User, load store.UserLoad) error {
	if len(users) == 0 || load.WithoutEmails {
		return nil
	}
	idx := make(map[string]int, len(users))
	ids := make([]string, len(users))
	for i, u := range users {
		idx[u.ID], ids[i] = i, u.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id, value, type, is_primary FROM user_emails
		WHERE tenant_id = ? AND user_id IN (`+placeholders(len(ids))+`) ORDER BY user_id, ord`,
		append([]any{users[0].TenantID}, anySlice(ids)...)...)
	if err != nil {
		return fmt.Errorf("load emails: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e store.Email
		var typ sql.NullString
		var primary int
		if err := rows.Scan(&id, &e.Value, &typ, &primary); err != nil {
			return fmt.Errorf("scan email: %w", err)
		}
		e.Type, e.Primary = typ.String, primary != 0
		u := &users[idx[id]]
		u.Emails = append(u.Emails, e)
	}
	return rows.Err()
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) getUser(ctx context.Context, q queryer, tenant, id string, load store.UserLoad) (store.User, error) {
	u, err := scanUser(tenant, q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	users := []store.User{u}
	if err := s.loadEmails(ctx, q, users, load); err != nil {
		return store.User{}, err
	}
	if err := s.loadGroups(ctx, q, users, load); err != nil {
		return store.User{}, err
	}
	return users[0], nil
}

// loadGroups fills the users' Groups when load asks (SQLite runs in the
// process, so a second statement costs no round trip).
func (s *Store) loadGroups(ctx context.Context, q queryer, users []store.User, load store.UserLoad) error {
	if !load.Groups || len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	groups, err := userGroups(ctx, q, users[0].TenantID, ids)
	if err != nil {
		return err
	}
	for i := range users {
		users[i].Groups = groups[users[i].ID]
	}
	return nil
}

// GetUser returns one user.
func (s *Store) GetUser(ctx context.Context, tenant, id string, load store.UserLoad) (store.User, error) {
	return s.getUser(ctx, s.r, tenant, id, load)
}

// UpdateUser is a read-modify-write in one immediate transaction.
func (s *Store) UpdateUser(ctx context.Context, tenant, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.getUser(ctx, tx, tenant, id, store.UserLoad{Groups: true})
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = u
				return nil
			}
			return err
		}
		u.TenantID, u.ID, u.Version = tenant, id, u.Version+1
		if err := writeUser(ctx, tx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

func writeUser(ctx context.Context, tx *sql.Tx, u store.User) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET user_name = ?, user_name_norm = ?, external_id = ?, display_name = ?,
		active = ?, tier = ?, last_modified = ?, version = ?, doc = ? WHERE tenant_id = ? AND id = ?`,
		u.UserName, store.NormalizeUserName(u.UserName), nullString(u.ExternalID), nullString(u.DisplayName),
		boolInt(u.Active), string(u.Tier), micros(u.LastModified), u.Version, string(u.Doc), u.TenantID, u.ID)
	if err != nil {
		return fmt.Errorf("update user: %w", translate(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?`, u.TenantID, u.ID); err != nil {
		return fmt.Errorf("clear user emails: %w", translate(err))
	}
	if err := insertEmails(ctx, tx, u); err != nil {
		return err
	}
	return writeAudit(ctx, tx, u.TenantID, "User", u.ID, u.Doc)
}

// DeleteUser removes a user, its emails and its memberships; a non-zero
// version must be the user's current one.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string, version int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := deleteVersioned(ctx, tx, "users", tenant, id, version); err != nil {
			return err
		}
		return deleteMemberships(ctx, tx, tenant, id)
	})
}

// deleteVersioned deletes one row of table (users or groups) when version is
// 0 or the row's current version. When nothing was deleted it tells, inside
// the same transaction, an unknown id (ErrNotFound) from a stale version
// (ErrVersionMismatch).
func deleteVersioned(ctx context.Context, tx *sql.Tx, table, tenant, id string, version int64) error {
	kind := strings.TrimSuffix(table, "s")
	res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = ? AND id = ? AND (? = 0 OR version = ?)`,
		tenant, id, version, version)
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, translate(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, translate(err))
	}
	if n > 0 {
		return writeAudit(ctx, tx, tenant, store.ResourceTypeOf(table), id, nil)
	}
	var current int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM `+table+` WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&current); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, translate(err))
	}
	return fmt.Errorf("delete %s %s: version is %d, not %d: %w", kind, id, current, version, store.ErrVersionMismatch)
}

func deleteMemberships(ctx context.Context, tx *sql.Tx, tenant, memberID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = ? AND member_id = ?`, tenant, memberID); err != nil {
		return fmt.Errorf("delete memberships of %s: %w", memberID, translate(err))
	}
	return nil
}

// ListUsers returns the users q selects and how many match its filter.
func (s *Store) ListUsers(ctx context.Context, tenant string, q store.Query, load store.UserLoad) ([]store.User, int, error) {
	st, err := sqlq.List(sqlq.SQLite, sqlq.Users, userColumns, tenant, q)
	if err != nil {
		return nil, 0, fmt.Errorf("build user query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	count := func() (int, error) { return s.count(ctx, st) }
	if q.Filter == nil {
		count = func() (int, error) { return s.countUsers(ctx, tenant) }
	}
	if q.Limit <= 0 {
		total, err := count()
		return []store.User{}, total, err
	}
	rows, err := s.r.QueryContext(ctx, st.Page, st.PageArgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", s.translateQuery(ctx, err))
	}
	users, err := collectUsers(tenant, rows)
	if err != nil {
		return nil, 0, s.translateQuery(ctx, err)
	}
	total, ok := store.TotalFromPage(q, len(users))
	if !ok {
		if total, err = count(); err != nil {
			return nil, 0, err
		}
	}
	if err := s.loadEmails(ctx, s.r, users, load); err != nil {
		return nil, 0, err
	}
	return users, total, s.loadGroups(ctx, s.r, users, load)
}

// countUsers is the number of the tenant's users, kept in user_counts by
// triggers on users (migration 0006).
func (s *Store) countUsers(ctx context.Context, tenant string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = ?`, tenant).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", s.translateQuery(ctx, err))
	}
	return n, nil
}

func collectUsers(tenant string, rows *sql.Rows) ([]store.User, error) {
	defer rows.Close()
	users := []store.User{}
	for rows.Next() {
		u, err := scanUser(tenant, rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// userGroups returns the direct groups of each user, ordered by display
// name then id.
func userGroups(ctx context.Context, q queryer, tenant string, userIDs []string) (map[string][]store.GroupRef, error) {
	out := make(map[string][]store.GroupRef, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT m.member_id, g.id, g.display_name FROM group_members m INDEXED BY group_members_member
		JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
		WHERE m.tenant_id = ? AND m.member_id IN (`+placeholders(len(userIDs))+`)
		ORDER BY g.display_name, g.id`, append([]any{tenant}, anySlice(userIDs)...)...)
	if err != nil {
		return nil, fmt.Errorf("user groups: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		var g store.GroupRef
		if err := rows.Scan(&uid, &g.ID, &g.DisplayName); err != nil {
			return nil, fmt.Errorf("scan user group: %w", err)
		}
		out[uid] = append(out[uid], g)
	}
	return out, rows.Err()
}

// UserTiers returns the tiers of the given users.
func (s *Store) UserTiers(ctx context.Context, tenant string, ids []string) (map[string]store.Tier, error) {
	out := make(map[string]store.Tier, len(ids))
	for _, chunk := range store.Chunks(ids, 500) {
		rows, err := s.r.QueryContext(ctx, `SELECT id, tier FROM users WHERE tenant_id = ? AND id IN (`+placeholders(len(chunk))+`)`,
			append([]any{tenant}, anySlice(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("user tiers: %w", translate(err))
		}
		for rows.Next() {
			var id, tier string
			if err := rows.Scan(&id, &tier); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan user tier: %w", err)
			}
			out[id] = store.Tier(tier)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
