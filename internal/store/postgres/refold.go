package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// refold creates the scim_fold SQL function and recomputes every
// normalised column in Go (migration
// store.RefoldMigration), inside the migration's transaction. It fails,
// changing nothing, if two users of a tenant would share a userName.
func refold(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, foldFunctionSQL()); err != nil {
		return fmt.Errorf("refold: create scim_fold: %w", err)
	}
	return store.Refold(ctx, normIO{tx})
}

// normIO reads and writes normalised columns in the migration's transaction.
type normIO struct{ tx pgx.Tx }

// ReadNormRows implements store.NormIO.
func (n normIO) ReadNormRows(ctx context.Context, t store.NormTable) ([]store.NormRow, error) {
	rows, err := n.tx.Query(ctx, t.SelectSQL())
	if err != nil {
		return nil, fmt.Errorf("refold: read %s: %w", t.Table, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.NormRow, error) {
		var n store.NormRow
		err := r.Scan(&n.Tenant, &n.Key, &n.Ord, &n.Value, &n.Norm)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("refold: scan %s: %w", t.Table, err)
	}
	return out, nil
}

// WriteNormRows implements store.NormIO: updates the changed rows, 1000 statements per batch.
func (n normIO) WriteNormRows(ctx context.Context, t store.NormTable, changed []store.NormRow) error {
	if len(changed) == 0 {
		return nil
	}
	if t.Unique != "" {
		if _, err := n.tx.Exec(ctx, "DROP INDEX "+t.Unique); err != nil {
			return fmt.Errorf("refold: drop %s: %w", t.Unique, err)
		}
	}
	upd := t.UpdateSQL(func(i int) string { return fmt.Sprintf("$%d", i) })
	for chunk := range slices.Chunk(changed, 1000) {
		b := &pgx.Batch{}
		for _, r := range chunk {
			b.Queue(upd, r.Norm, r.Tenant, r.Key, r.Ord)
		}
		if err := n.tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("refold: update %s: %w", t.Table, err)
		}
	}
	if t.Unique != "" {
		if _, err := n.tx.Exec(ctx, t.CreateUniqueSQL()); err != nil {
			return fmt.Errorf("refold: recreate %s: %w", t.Unique, translate(err))
		}
	}
	return nil
}

// foldFunctionSQL creates scim_fold(text), schema.Fold in SQL, for the
// attributes compared through the JSON document (normalised columns are
// folded in Go). It lower-cases with lower() after mapping the runes whose
// fold is not their lower case (schema.FoldExceptions, generated from Go's
// tables); "İ", which folds to itself but lower-cases to "i", is kept by
// lower-casing the text between its occurrences. It relies on lower()
// agreeing with Go's unicode.ToLower, as it does under a UTF-8 LC_CTYPE
// such as C.UTF-8.
func foldFunctionSQL() string {
	var from, to strings.Builder
	keep := 'İ'
	exc := schema.FoldExceptions()
	runes := make([]rune, 0, len(exc))
	for r := range exc {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	for _, r := range runes {
		if r != keep {
			from.WriteRune(r)
			to.WriteRune(exc[r])
		}
	}
	low := fmt.Sprintf("lower(translate(%%s, '%s', '%s'))", from.String(), to.String())
	return `CREATE OR REPLACE FUNCTION scim_fold(s text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$
	SELECT CASE WHEN strpos(s, '` + string(keep) + `') = 0 THEN ` + fmt.Sprintf(low, "s") + `
	ELSE array_to_string(ARRAY(SELECT ` + fmt.Sprintf(low, "u.p") + `
		FROM unnest(string_to_array(s, '` + string(keep) + `')) WITH ORDINALITY AS u(p, i) ORDER BY u.i), '` + string(keep) + `') END
	$fold$`
}
