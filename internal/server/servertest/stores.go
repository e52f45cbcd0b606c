package servertest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// Stores is Backends for tests and benchmarks alike (testing.TB), so
// that packages which may not import a backend (csvbridge) can
// benchmark over real stores: a SQLite file in a temporary directory, a
// fresh PostgreSQL schema, each closed (and dropped) when tb ends.
func Stores() map[string]func(tb testing.TB) store.Store {
	return map[string]func(tb testing.TB) store.Store{
		"sqlite": func(tb testing.TB) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "scim.db"))
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(tb testing.TB) store.Store { return pgtest.Open(tb) },
	}
}
