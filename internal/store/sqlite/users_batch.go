package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

// readChunk is the number of ids one read of UpdateUsers names (an IN
// list, well under SQLite's limit on bound variables).
const readChunk = 500

// UpdateUsers reads the users in one immediate transaction (the single
// writer: nothing else writes meanwhile), calls fn for each, and writes
// the changed ones in order with prepared statements. A user whose new
// userName is taken fails on its own UPDATE, which SQLite backs out alone.
func (s *Store) UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(int, *store.User) (*store.AuditEvent, error)) ([]store.UserUpdate, error) {
	out := make([]store.UserUpdate, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if err := store.CheckDistinctIDs(ids); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		found, err := s.readUsers(ctx, tx, tenant, ids)
		if err != nil {
			return err
		}
		w, err := prepareUserWrites(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for i, id := range ids {
			if out[i], err = w.update(ctx, tenant, i, id, found, fn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readUsers reads the tenant's users among ids, with emails and groups.
func (s *Store) readUsers(ctx context.Context, tx *sql.Tx, tenant string, ids []string) (map[string]store.User, error) {
	found := make(map[string]store.User, len(ids))
	for start := 0; start < len(ids); start += readChunk {
		chunk := ids[start:min(start+readChunk, len(ids))]
		users, err := scanUsers(ctx, tx, tenant, chunk)
		if err != nil {
			return nil, err
		}
		load := store.UserLoad{Groups: true}
		if err := s.loadEmails(ctx, tx, users, load); err != nil {
			return nil, err
		}
		if err := s.loadGroups(ctx, tx, users, load); err != nil {
			return nil, err
		}
		for _, u := range users {
			found[u.ID] = u
		}
	}
	return found, nil
}

// scanUsers reads the users' own columns.
func scanUsers(ctx context.Context, tx *sql.Tx, tenant string, ids []string) ([]store.User, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = ? AND id IN (`+placeholders(len(ids))+`)`,
		append([]any{tenant}, anySlice(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", translate(err))
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(tenant, rows)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", translate(err))
	}
	return users, nil
}

// userWrites are the prepared statements that write one changed user.
type userWrites struct {
	write, clear, mail, audit *sql.Stmt
}

func prepareUserWrites(ctx context.Context, tx *sql.Tx) (*userWrites, error) {
	w := &userWrites{}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.write, `UPDATE users SET user_name = ?, user_name_norm = ?, external_id = ?, display_name = ?,
			active = ?, tier = ?, last_modified = ?, version = ?, doc = ? WHERE tenant_id = ? AND id = ?`},
		{&w.clear, `DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?`},
		{&w.mail, `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&w.audit, `INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
			resource_type, resource_id, request_id, source, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare user writes: %w", translate(err))
		}
		*p.st = st
	}
	return w, nil
}

func (w *userWrites) close() {
	for _, st := range []*sql.Stmt{w.write, w.clear, w.mail, w.audit} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// update runs fn on the user ids[i] and writes what it changed. The
// result is that user's outcome; the error fails the whole call.
func (w *userWrites) update(ctx context.Context, tenant string, i int, id string, found map[string]store.User,
	fn func(int, *store.User) (*store.AuditEvent, error)) (store.UserUpdate, error) {
	u, ev, outcome, ok := store.JudgeUpdate(i, id, found, fn)
	if !ok {
		return outcome, nil
	}
	u.TenantID, u.ID, u.Version = tenant, id, u.Version+1
	_, err := w.write.ExecContext(ctx, u.UserName, store.NormalizeUserName(u.UserName), nullString(u.ExternalID),
		nullString(u.DisplayName), boolInt(u.Active), string(u.Tier), micros(u.LastModified), u.Version, string(u.Doc), tenant, id)
	if err := translate(err); errors.Is(err, store.ErrConflict) {
		return store.UserUpdate{Err: fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)}, nil
	} else if err != nil {
		return store.UserUpdate{}, fmt.Errorf("update user: %w", err)
	}
	return store.UserUpdate{User: u}, w.rest(ctx, u, ev)
}

// rest replaces the user's email rows and records its audit event.
func (w *userWrites) rest(ctx context.Context, u store.User, ev *store.AuditEvent) error {
	if _, err := w.clear.ExecContext(ctx, u.TenantID, u.ID); err != nil {
		return fmt.Errorf("clear user emails: %w", translate(err))
	}
	for j, e := range u.Emails {
		_, err := w.mail.ExecContext(ctx, u.TenantID, u.ID, j, e.Value, store.NormalizeUserName(e.Value), nullString(e.Type), boolInt(e.Primary))
		if err != nil {
			return fmt.Errorf("insert user email: %w", translate(err))
		}
	}
	if ev == nil {
		return nil
	}
	e := store.CompleteAudit(*ev, u.TenantID, "User", u.ID, uuid.NewString)
	_, err := w.audit.ExecContext(ctx, e.TenantID, e.ID, micros(e.At), e.Actor, e.ActorKind, e.ActorTier, e.Action,
		e.ResourceType, e.ResourceID, e.RequestID, e.Source, strings.Join(e.Attributes, ","))
	if err != nil {
		return fmt.Errorf("write audit event: %w", translate(err))
	}
	return nil
}
