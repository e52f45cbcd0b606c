package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// PutCSVProfile stores a new version of a tenant's profile; the primary
// key (tenant, name, version) settles two concurrent puts of one version.
func (s *Store) PutCSVProfile(ctx context.Context, p store.CSVProfile) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var latest int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM csv_profiles WHERE tenant_id = $1 AND name = $2`,
			p.TenantID, p.Name).Scan(&latest); err != nil {
			return fmt.Errorf("csv profile %s: %w", p.Name, translate(err))
		}
		if p.Version != latest+1 {
			return fmt.Errorf("%w: csv profile %s is at version %d", store.ErrConflict, p.Name, latest)
		}
		_, err := tx.Exec(ctx, `INSERT INTO csv_profiles (tenant_id, name, version, created, created_by, doc) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.TenantID, p.Name, p.Version, p.Created, p.CreatedBy, string(p.Doc))
		if err != nil {
			return fmt.Errorf("put csv profile %s: %w", p.Name, translate(err))
		}
		return nil
	})
}

const csvProfileColumns = `tenant_id, name, version, created, created_by, doc::text`

// GetCSVProfile returns a version of a tenant's profile (0: the latest).
func (s *Store) GetCSVProfile(ctx context.Context, tenant, name string, version int) (store.CSVProfile, error) {
	q := `SELECT ` + csvProfileColumns + ` FROM csv_profiles WHERE tenant_id = $1 AND name = $2 AND version = $3`
	args := []any{tenant, name, version}
	if version == 0 {
		q = `SELECT ` + csvProfileColumns + ` FROM csv_profiles WHERE tenant_id = $1 AND name = $2 ORDER BY version DESC LIMIT 1`
		args = args[:2]
	}
	p, err := scanCSVProfile(s.pool.QueryRow(ctx, q, args...))
	if err != nil {
		return p, fmt.Errorf("csv profile %s: %w", name, translate(err))
	}
	return p, nil
}

// ListCSVProfiles returns the latest version of each of a tenant's
// profiles, by name.
func (s *Store) ListCSVProfiles(ctx context.Context, tenant string) ([]store.CSVProfile, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (name) `+csvProfileColumns+` FROM csv_profiles WHERE tenant_id = $1
		ORDER BY name, version DESC`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list csv profiles: %w", translate(err))
	}
	defer rows.Close()
	var out []store.CSVProfile
	for rows.Next() {
		p, err := scanCSVProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("list csv profiles: %w", translate(err))
		}
		out = append(out, p)
	}
	return out, translate(rows.Err())
}

func scanCSVProfile(r interface{ Scan(...any) error }) (store.CSVProfile, error) {
	var p store.CSVProfile
	var doc string
	if err := r.Scan(&p.TenantID, &p.Name, &p.Version, &p.Created, &p.CreatedBy, &doc); err != nil {
		return store.CSVProfile{}, err
	}
	p.Created, p.Doc = p.Created.UTC(), []byte(doc)
	return p, nil
}
