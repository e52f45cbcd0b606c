package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/migrations"
)

// TestUserCountsBackfilled upgrades a database that has users but not yet
// the user_counts migration: the totals must count the users already there.
func TestUserCountsBackfilled(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	ms, err := migrations.For("postgres")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL)`}
	for _, m := range ms {
		if m.Name >= "0006" {
			break
		}
		stmts = append(stmts, m.SQL, `INSERT INTO schema_migrations VALUES ('`+m.Name+`', now())`)
	}
	stmts = append(stmts, `INSERT INTO tenants (id) VALUES ('acme')`,
		`INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
		 SELECT CASE WHEN i <= 3 THEN 'default' ELSE 'acme' END, gen_random_uuid()::text, 'u' || i, 'u' || i,
		        true, now(), now(), 1, '{}'
		 FROM generate_series(1, 5) i`)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.CheckUserTotals(t, st, map[string]int{store.DefaultTenant: 3, "acme": 2})
}
