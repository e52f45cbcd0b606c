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
	dsn, conn := migratedBefore(t, "0006")
	mustExec(t, conn, `INSERT INTO tenants (id) VALUES ('acme')`)
	mustExec(t, conn, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
		 SELECT CASE WHEN i <= 3 THEN 'default' ELSE 'acme' END, gen_random_uuid()::text, 'u' || i, 'u' || i,
		        true, now(), now(), 1, '{}'
		 FROM generate_series(1, 5) i`)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.CheckUserTotals(t, st, map[string]int{store.DefaultTenant: 3, "acme": 2})
}

// migratedBefore makes a fresh schema migrated up to (not including) the
// migration whose name starts with before, as a database of an earlier
// release would be, and returns its DSN and a connection to it.
func migratedBefore(t *testing.T, before string) (string, *pgx.Conn) {
	t.Helper()
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
	mustExec(t, conn, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL)`)
	for _, m := range ms {
		if m.Name >= before {
			break
		}
		mustExec(t, conn, m.SQL)
		mustExec(t, conn, `INSERT INTO schema_migrations VALUES ($1, now())`, m.Name)
	}
	return dsn, conn
}

func mustExec(t *testing.T, conn *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%.60s: %v", q, err)
	}
}

// storeAndConn opens a store on dsn and a plain connection beside it (for
// seeding and EXPLAIN), both closed when tb ends.
func storeAndConn(tb testing.TB, dsn string) (*postgres.Store, *pgx.Conn) {
	tb.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(ctx) })
	return st, conn
}
