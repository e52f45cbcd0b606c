package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestHardening_LongValuesTranslated: a value over PostgreSQL's btree row
// limit, should it reach the store, is store.ErrValueTooLarge (a 400 in
// the service), never a raw driver error; in a batch too.
func TestHardening_LongValuesTranslated(t *testing.T) {
	s := pgtest.Open(t)
	b := make([]byte, 2000)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	long := hex.EncodeToString(b) // 4000 characters that do not compress
	now := time.Now().UTC().Truncate(time.Microsecond)
	user := func(name string) store.User {
		return store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: name, Active: true,
			Created: now, LastModified: now, Version: 1, Doc: []byte(`{}`)}
	}
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, user(long)); !errors.Is(err, store.ErrValueTooLarge) {
		t.Fatalf("CreateUser: err = %v, want ErrValueTooLarge", err)
	}
	if _, err := s.CreateUsers(ctx, []store.User{user("short"), user(long)}); !errors.Is(err, store.ErrValueTooLarge) {
		t.Fatalf("CreateUsers: err = %v, want ErrValueTooLarge", err)
	}
	g := store.Group{TenantID: store.DefaultTenant, ID: uuid.NewString(), DisplayName: long, Created: now, LastModified: now, Version: 1, Doc: []byte(`{}`)}
	if _, err := s.CreateGroup(ctx, g); !errors.Is(err, store.ErrValueTooLarge) {
		t.Fatalf("CreateGroup: err = %v, want ErrValueTooLarge", err)
	}
}
