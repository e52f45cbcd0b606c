package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

func activeCount(ctx context.Context, tx *sql.Tx, tenant, name string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM credentials WHERE tenant_id = ? AND name = ? AND revoked_at IS NULL`, tenant, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count credentials: %w", translate(err))
	}
	return n, nil
}

// ListCredentials returns the tenant's credentials, oldest first.
func (s *Store) ListCredentials(ctx context.Context, tenant string) ([]store.Credential, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, tier, created, last_used_at, revoked_at FROM credentials
		WHERE tenant_id = ? ORDER BY created, id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", translate(err))
	}
	defer rows.Close()
	out := []store.Credential{}
	for rows.Next() {
		c := store.Credential{TenantID: tenant}
		var tier string
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Name, &tier, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("scan credential: %w", err)
		}
		c.Tier, c.Created, c.LastUsedAt, c.RevokedAt = store.Tier(tier), fromMicros(created), optTime(used), optTime(revoked)
		out = append(out, c)
	}
	return out, rows.Err()
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// RevokeCredential revokes an active credential.
func (s *Store) RevokeCredential(ctx context.Context, tenant, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE credentials SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`,
		micros(at), tenant, id)
	if err != nil {
		return fmt.Errorf("revoke credential: %w", translate(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke credential %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchCredential records a use.
func (s *Store) TouchCredential(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE credentials SET last_used_at = ? WHERE id = ?`, micros(at), id); err != nil {
		return fmt.Errorf("touch credential: %w", translate(err))
	}
	return nil
}
