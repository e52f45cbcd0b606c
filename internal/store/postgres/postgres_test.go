package postgres_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/migrations"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

func TestPing(t *testing.T) {
	s := pgtest.Open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentMigrate starts several stores on one empty schema at once:
// every Open (and a second Migrate) succeeds and each migration runs once.
func TestConcurrentMigrate(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(context.Background(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	for i := range n {
		wg.Go(func() { errs[i] = stores[i].Migrate(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	checkApplied(t, dsn)
}

// checkApplied compares schema_migrations with the embedded migrations and
// checks that the first migration's seed row exists once.
func checkApplied(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.For("postgres")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.Name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema_migrations = %v, want %v", got, want)
	}
	var tenants int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE id = $1`, store.DefaultTenant).Scan(&tenants); err != nil || tenants != 1 {
		t.Fatalf("default tenant rows = %d, %v", tenants, err)
	}
}
