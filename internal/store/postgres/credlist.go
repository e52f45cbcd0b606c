package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

func activeCount(ctx context.Context, tx pgx.Tx, tenant, name string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM credentials WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL`, tenant, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count credentials: %w", translate(err))
	}
	return n, nil
}

// ListCredentials returns the tenant's credentials, oldest first.
func (s *Store) ListCredentials(ctx context.Context, tenant string) ([]store.Credential, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, tier, created, last_used_at, revoked_at FROM credentials
		WHERE tenant_id = $1 ORDER BY created, id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", translate(err))
	}
	out := []store.Credential{}
	var c store.Credential
	var tier string
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.Name, &tier, &c.Created, &c.LastUsedAt, &c.RevokedAt}, func() error {
		c.TenantID, c.Tier, c.Created = tenant, store.Tier(tier), c.Created.UTC()
		out = append(out, c)
		c = store.Credential{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", translate(err))
	}
	return out, nil
}

// RevokeCredential revokes an active credential.
func (s *Store) RevokeCredential(ctx context.Context, tenant, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE credentials SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL`,
		at, tenant, id)
	if err != nil {
		return fmt.Errorf("revoke credential: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke credential %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchCredential records a use.
func (s *Store) TouchCredential(ctx context.Context, id string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE credentials SET last_used_at = $1 WHERE id = $2`, at, id); err != nil {
		return fmt.Errorf("touch credential: %w", translate(err))
	}
	return nil
}
