package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

const settingsSQL = `SELECT t.id, s.version, s.updated, s.doc FROM tenants t
	LEFT JOIN tenant_settings s ON s.tenant_id = t.id WHERE t.id = ?`

// GetSettings returns the tenant's settings (version 0 before the first write).
func (s *Store) GetSettings(ctx context.Context, tenant string) (store.Settings, error) {
	return getSettings(ctx, s.r, tenant)
}

func getSettings(ctx context.Context, q queryer, tenant string) (store.Settings, error) {
	var id string
	var version, updated sql.NullInt64
	var doc sql.NullString
	if err := q.QueryRowContext(ctx, settingsSQL, tenant).Scan(&id, &version, &updated, &doc); err != nil {
		return store.Settings{}, fmt.Errorf("settings of tenant %s: %w", tenant, translate(err))
	}
	out := store.Settings{TenantID: tenant, Version: version.Int64}
	if doc.Valid {
		out.Doc, out.Updated = []byte(doc.String), fromMicros(updated.Int64)
	}
	return out, nil
}

// UpdateSettings runs fn on the tenant's settings under the single writer.
func (s *Store) UpdateSettings(ctx context.Context, tenant string, fn func(*store.Settings) error) (store.Settings, error) {
	var out store.Settings
	err := s.tx(ctx, func(tx *sql.Tx) error {
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
		_, err = tx.ExecContext(ctx, `INSERT INTO tenant_settings (tenant_id, version, updated, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, updated = excluded.updated, doc = excluded.doc`,
			tenant, next.Version, micros(next.Updated), string(next.Doc))
		if err != nil {
			return fmt.Errorf("write settings of tenant %s: %w", tenant, translate(err))
		}
		out = next
		return writeAudit(ctx, tx, tenant, "Settings", tenant, next.Doc)
	})
	return out, err
}
