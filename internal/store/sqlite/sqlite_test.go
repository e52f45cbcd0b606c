package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.CreateTenant(ctx, "acme", storeNow()); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.GetTenant(ctx, "acme"); err != nil {
			t.Fatalf("data lost on reopen: %v", err)
		}
		s.Close()
	}
}

func storeNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
