package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
)

// oldSchema fills a fresh schema migrated up to (not including) 0007 with
// the seed rows normalised by the old rule, plus the extra statements, and
// returns its DSN and a connection to it.
func oldSchema(t *testing.T, extra ...string) (string, *pgx.Conn) {
	t.Helper()
	dsn, conn := migratedBefore(t, "0007")
	for _, s := range extra {
		mustExec(t, conn, s)
	}
	seed := storetest.RefoldSeed
	for _, u := range seed.Users {
		mustExec(t, conn, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
			VALUES ('default', $1, $2, $3, true, now(), now(), 1, '{}')`, u[0], u[1], seed.Lowers(u[1]))
	}
	mustExec(t, conn, `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm) VALUES ('default', $1, 0, $2, $3)`,
		seed.Email[0], seed.Email[1], seed.Lowers(seed.Email[1]))
	mustExec(t, conn, `INSERT INTO groups (tenant_id, id, display_name, display_name_norm, created, last_modified, version, doc)
		VALUES ('default', $1, $2, $3, now(), now(), 1, '{}')`, seed.Group[0], seed.Group[1], seed.Lowers(seed.Group[1]))
	return dsn, conn
}

// TestHardening_UnicodeCaseFoldingMigration upgrades a schema whose
// normalised columns were lower-cased: migration 0007 refolds them in Go.
func TestHardening_UnicodeCaseFoldingMigration(t *testing.T) {
	dsn, _ := oldSchema(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.CheckRefolded(t, st)
}

// TestHardening_UnicodeCaseFoldingMigrationCollision: users that become
// equal under the new rule stop the migration, which names them and
// leaves the schema as it was.
func TestHardening_UnicodeCaseFoldingMigrationCollision(t *testing.T) {
	dsn, conn := oldSchema(t, `INSERT INTO tenants (id) VALUES ('acme')`,
		`INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
		 VALUES ('acme', 'a1', 'ſam', 'ſam', true, now(), now(), 1, '{}'), ('acme', 'a2', 'sam', 'sam', true, now(), now(), 1, '{}')`)
	st, err := postgres.Open(context.Background(), dsn)
	if err == nil {
		st.Close()
	}
	storetest.CheckRefoldRefused(t, err)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations WHERE name >= '0007'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("migration 0007 recorded (%d, %v) although it failed", n, err)
	}
}
