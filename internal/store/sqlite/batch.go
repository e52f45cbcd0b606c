package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateUsers inserts users in one transaction with prepared statements,
// skipping those whose userName is taken.
func (s *Store) CreateUsers(ctx context.Context, users []store.User) ([]error, error) {
	results := make([]error, len(users))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO users (tenant_id, user_name_norm, `+userColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare user insert: %w", translate(err))
		}
		defer ins.Close()
		mail, err := tx.PrepareContext(ctx, `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare email insert: %w", translate(err))
		}
		defer mail.Close()
		for i, u := range users {
			conflict, err := insertOne(ctx, tx, ins, mail, u)
			if err != nil {
				return err
			}
			if conflict {
				results[i] = fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)
			}
		}
		return nil
	})
	return results, err
}

// insertOne reports whether the userName was taken; an error fails the batch.
func insertOne(ctx context.Context, tx *sql.Tx, ins, mail *sql.Stmt, u store.User) (bool, error) {
	res, err := ins.ExecContext(ctx, u.TenantID, store.NormalizeUserName(u.UserName), u.ID, u.UserName, nullString(u.ExternalID),
		nullString(u.DisplayName), boolInt(u.Active), string(u.Tier), micros(u.Created), micros(u.LastModified), u.Version, string(u.Doc))
	if err != nil {
		return false, fmt.Errorf("insert user: %w", translate(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return true, nil
	}
	if err := writeAudit(ctx, tx, u.TenantID, "User", u.ID, u.Doc); err != nil {
		return false, err
	}
	if err := insertOutbox(ctx, tx, u); err != nil {
		return false, err
	}
	for j, e := range u.Emails {
		_, err := mail.ExecContext(ctx, u.TenantID, u.ID, j, e.Value, store.NormalizeUserName(e.Value), nullString(e.Type), boolInt(e.Primary))
		if err != nil {
			return false, fmt.Errorf("insert user email: %w", translate(err))
		}
	}
	return false, nil
}
