package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/migrations"
)

// oldDatabase writes a database migrated up to (not including) 0007 with
// the seed rows normalised by the old rule, plus the extra statements.
func oldDatabase(t *testing.T, extra ...string) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations.For("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`}
	for _, m := range ms {
		if m.Name >= "0007" {
			break
		}
		stmts = append(stmts, m.SQL, `INSERT INTO schema_migrations VALUES ('`+m.Name+`', 0)`)
	}
	for _, s := range append(stmts, extra...) {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	seed := storetest.RefoldSeed
	for _, u := range seed.Users {
		exec(t, db, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
			VALUES ('default', ?, ?, ?, 1, 0, 0, 1, '{}')`, u[0], u[1], seed.Lowers(u[1]))
	}
	exec(t, db, `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm) VALUES ('default', ?, 0, ?, ?)`,
		seed.Email[0], seed.Email[1], seed.Lowers(seed.Email[1]))
	exec(t, db, `INSERT INTO groups (tenant_id, id, display_name, display_name_norm, created, last_modified, version, doc)
		VALUES ('default', ?, ?, ?, 0, 0, 1, '{}')`, seed.Group[0], seed.Group[1], seed.Lowers(seed.Group[1]))
	return path
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%.60s: %v", q, err)
	}
}

// TestHardening_UnicodeCaseFoldingMigration upgrades a database whose
// normalised columns were lower-cased: migration 0007 refolds them in Go.
func TestHardening_UnicodeCaseFoldingMigration(t *testing.T) {
	st, err := sqlite.Open(context.Background(), oldDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.CheckRefolded(t, st)
}

// TestHardening_UnicodeCaseFoldingMigrationCollision: users that become
// equal under the new rule stop the migration, which names them and
// leaves the database as it was.
func TestHardening_UnicodeCaseFoldingMigrationCollision(t *testing.T) {
	path := oldDatabase(t, `INSERT INTO tenants (id) VALUES ('acme')`,
		`INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
		 VALUES ('acme', 'a1', 'ſam', 'ſam', 1, 0, 0, 1, '{}'), ('acme', 'a2', 'sam', 'sam', 1, 0, 0, 1, '{}')`)
	st, err := sqlite.Open(context.Background(), path)
	if err == nil {
		st.Close()
	}
	storetest.CheckRefoldRefused(t, err)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name >= '0007'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("migration 0007 recorded (%d, %v) although it failed", n, err)
	}
}
