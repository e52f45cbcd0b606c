package postgres_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestScimFoldMatchesGo holds scim_fold, the SQL twin of schema.Fold used
// for attributes compared through the JSON document, to schema.Fold on
// every exceptional rune and on mixed text.
func TestScimFoldMatchesGo(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	_, conn := storeAndConn(t, dsn) // the store migrates: scim_fold exists
	inputs := []string{"", "İ", "İYİ", "aİbİİc", "ſam", "ΣΟΦΟΣ σοφος", "Straße ẞ", "µ Μ μ", "\u212Aelvin", "Åsa Ølsen", "ǅemal", "ⅫⅻⒶⓐ"}
	for r := range schema.FoldExceptions() {
		inputs = append(inputs, "x"+string(r)+"Y")
	}
	for _, in := range inputs {
		var got string
		if err := conn.QueryRow(ctx, `SELECT scim_fold($1)`, in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != schema.Fold(in) {
			t.Errorf("scim_fold(%q) = %q, schema.Fold = %q", in, got, schema.Fold(in))
		}
	}
}
