package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// settingsSQL reads a tenant's settings.
const settingsSQL = `SELECT t.id, s.version, s.updated, s.doc::text FROM tenants t
	LEFT JOIN tenant_settings s ON s.tenant_id = t.id WHERE t.id = $1`

// GetSettings returns the tenant's settings (version 0 before the first write).
func (s *Store) GetSettings(ctx context.Context, tenant string) (store.Settings, error) {
	return getSettings(ctx, s.pool, tenant)
}

func getSettings(ctx context.Context, q querier, tenant string) (store.Settings, error) {
	var id string
	var version *int64
	var updated *time.Time
	var doc *string
	if err := q.QueryRow(ctx, settingsSQL, tenant).Scan(&id, &version, &updated, &doc); err != nil {
		return store.Settings{}, fmt.Errorf("settings of tenant %s: %w", tenant, translate(err))
	}
	out := store.Settings{TenantID: tenant}
	if version != nil {
		out.Version, out.Updated, out.Doc = *version, updated.UTC(), []byte(*doc)
	}
	return out, nil
}

// UpdateSettings runs fn on the tenant's settings with the tenant row
// locked FOR NO KEY UPDATE (the settings row may not exist yet, so the
// tenant row is what serializes updates). The lock is taken by its own
// statement before the read: in READ COMMITTED a locking read that waited
// re-checks only the locked row, so a joined settings row would be stale.
func (s *Store) UpdateSettings(ctx context.Context, tenant string, fn func(*store.Settings) error) (store.Settings, error) {
	var out store.Settings
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenant); err != nil {
			return fmt.Errorf("lock settings of tenant %s: %w", tenant, translate(err))
		}
		cur, err := getSettings(ctx, tx, tenant)
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			if errors.Is(err, store.ErrUnchanged) {
				out = cur
				return nil
			}
			return err
		}
		next.TenantID, next.Version = tenant, cur.Version+1
		_, err = tx.Exec(ctx, `INSERT INTO tenant_settings (tenant_id, version, updated, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, updated = excluded.updated, doc = excluded.doc`,
			tenant, next.Version, next.Updated, string(next.Doc))
		if err != nil {
			return fmt.Errorf("write settings of tenant %s: %w", tenant, translate(err))
		}
		out = next
		return writeAudit(ctx, tx, tenant, "Settings", tenant, next.Doc)
	})
	return out, err
}
