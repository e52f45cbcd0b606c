package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/migrations"
)

// TestUserCountsBackfilled upgrades a database that has users but not yet
// the user_counts migration: the totals must count the users already there.
func TestUserCountsBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.For("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`}
	for _, m := range ms {
		if m.Name >= "0006" {
			break
		}
		stmts = append(stmts, m.SQL, `INSERT INTO schema_migrations VALUES ('`+m.Name+`', 0)`)
	}
	stmts = append(stmts, `INSERT INTO tenants (id) VALUES ('acme')`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
		 INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
		 SELECT CASE WHEN i <= 3 THEN 'default' ELSE 'acme' END, 'id-' || i, 'u' || i, 'u' || i, 1, 0, 0, 1, '{}' FROM n`)
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.CheckUserTotals(t, st, map[string]int{store.DefaultTenant: 3, "acme": 2})
}
