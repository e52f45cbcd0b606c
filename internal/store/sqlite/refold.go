package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

// refold recomputes every normalised column in Go (migration
// store.RefoldMigration), inside the migration's transaction. It fails,
// changing nothing, if two users of a tenant would share a userName.
func refold(ctx context.Context, tx *sql.Tx) error {
	return store.Refold(ctx, normIO{tx})
}

// normIO reads and writes normalised columns in the migration's transaction.
type normIO struct{ tx *sql.Tx }

// ReadNormRows implements store.NormIO.
func (n normIO) ReadNormRows(ctx context.Context, t store.NormTable) ([]store.NormRow, error) {
	rows, err := n.tx.QueryContext(ctx, t.SelectSQL())
	if err != nil {
		return nil, fmt.Errorf("refold: read %s: %w", t.Table, err)
	}
	defer rows.Close()
	var out []store.NormRow
	for rows.Next() {
		var r store.NormRow
		if err := rows.Scan(&r.Tenant, &r.Key, &r.Ord, &r.Value, &r.Norm); err != nil {
			return nil, fmt.Errorf("refold: scan %s: %w", t.Table, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteNormRows implements store.NormIO.
func (n normIO) WriteNormRows(ctx context.Context, t store.NormTable, changed []store.NormRow) error {
	if len(changed) == 0 {
		return nil
	}
	if t.Unique != "" {
		if _, err := n.tx.ExecContext(ctx, "DROP INDEX "+t.Unique); err != nil {
			return fmt.Errorf("refold: drop %s: %w", t.Unique, err)
		}
	}
	upd, err := n.tx.PrepareContext(ctx, t.UpdateSQL(func(int) string { return "?" }))
	if err != nil {
		return fmt.Errorf("refold: prepare %s: %w", t.Table, err)
	}
	defer upd.Close()
	for _, r := range changed {
		if _, err := upd.ExecContext(ctx, r.Norm, r.Tenant, r.Key, r.Ord); err != nil {
			return fmt.Errorf("refold: update %s: %w", t.Table, err)
		}
	}
	if t.Unique != "" {
		if _, err := n.tx.ExecContext(ctx, t.CreateUniqueSQL()); err != nil {
			return fmt.Errorf("refold: recreate %s: %w", t.Unique, translate(err))
		}
	}
	return nil
}
