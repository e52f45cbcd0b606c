package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateCredential stores a hashed secret for an existing tenant.
func (s *Store) CreateCredential(ctx context.Context, c store.Credential) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := getTenant(ctx, tx, c.TenantID); err != nil {
			return err
		}
		if n, err := activeCount(ctx, tx, c.TenantID, c.Name); err != nil || n >= store.MaxActiveCredentials {
			if err == nil {
				err = fmt.Errorf("%w: %d active credentials named %q", store.ErrConflict, n, c.Name)
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO credentials (id, tenant_id, name, secret_hash, tier, created)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.TenantID, c.Name, c.SecretHash, string(c.Tier), c.Created)
		if err != nil {
			return fmt.Errorf("insert credential: %w", translate(err))
		}
		return nil
	})
}

// CredentialByHash finds an unrevoked credential.
func (s *Store) CredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	var c store.Credential
	var tier string
	err := s.pool.QueryRow(ctx, `SELECT id, tenant_id, name, secret_hash, tier, created, last_used_at
		FROM credentials WHERE secret_hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&c.ID, &c.TenantID, &c.Name, &c.SecretHash, &tier, &c.Created, &c.LastUsedAt)
	if err != nil {
		return store.Credential{}, fmt.Errorf("credential by hash: %w", translate(err))
	}
	c.Tier, c.Created = store.Tier(tier), c.Created.UTC()
	if c.LastUsedAt != nil {
		t := c.LastUsedAt.UTC()
		c.LastUsedAt = &t
	}
	return c, nil
}

// CreateTenant adds a tenant.
func (s *Store) CreateTenant(ctx context.Context, id string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tenants (id, created) VALUES ($1, $2)`, id, now)
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", id, translate(err))
	}
	return nil
}

// GetTenant returns a tenant.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	return getTenant(ctx, s.pool, id)
}

func getTenant(ctx context.Context, q querier, id string) (store.Tenant, error) {
	var created time.Time
	if err := q.QueryRow(ctx, `SELECT created FROM tenants WHERE id = $1`, id).Scan(&created); err != nil {
		return store.Tenant{}, fmt.Errorf("tenant %s: %w", id, translate(err))
	}
	return store.Tenant{ID: id, Created: created.UTC()}, nil
}
